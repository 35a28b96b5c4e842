#!/usr/bin/env bash
# Layers only look down (dsl ← compiler ← runtime ← tools; inside runtime, exec/ below the executors,
# the executors below train/), and the MLIR-free layers include no MLIR. Prints every violation.
set -uo pipefail
cd "$1"
bad=0
# rule: FOLDER may not include any of PATTERN (an extended regex over the quoted include path)
check() {
  local folder=$1 pattern=$2 why=$3 hits
  hits=$(grep -rnE "^#include \"($pattern)" "$folder" --include='*.h' --include='*.cpp' --include='*.def' || true)
  if [ -n "$hits" ]; then
    echo "$why:"; echo "$hits"; bad=1
  fi
}
check dsl 'compiler/|runtime/|tools/' "dsl/ includes a higher layer"
check compiler 'runtime/|tools/' "compiler/ includes a higher layer"
check runtime 'tools/' "runtime/ includes tools/"
check runtime/exec 'runtime/(cpu|reference|train|data|io|checkpoint)/|runtime/Backends' "runtime/exec/ includes an executor or train/"
check runtime/dist 'runtime/(exec|tensor|batch|cpu|cuda|reference|train|data|io|checkpoint)/|runtime/Backends|compiler/' "runtime/dist/ (the bottom of the runtime) includes another layer"
check runtime/cpu 'runtime/(reference|train|data)/|runtime/Backends' "runtime/cpu/ includes the reference executor or train/"
check runtime/reference 'runtime/(cpu|train|data)/|runtime/Backends' "runtime/reference/ includes another executor or train/"
check runtime/cpu 'runtime/cuda/' "runtime/cpu/ includes the CUDA executor"
# The CUDA executor is the CPU's peer; only its host emulation (tests without a GPU) borrows the CPU device.
for f in $(grep -rlE '^#include "runtime/cpu/' runtime/cuda 2>/dev/null); do
  case "$f" in runtime/cuda/HostEmulatedDevice.*) ;; *) echo "$f: runtime/cuda/ includes the CPU executor"; bad=1 ;; esac
done
# MLIR-free: exec/ and cpu/ include from compiler/ only its MLIR-free headers, and no mlir/ at all.
mlirfree='compiler/(DebugLevel\.h|kernels/KernelProgram\.h|kernels/LibraryLaunches\.def|codegen/Sections\.h|codegen/cpu/ObjectBundle\.h|codegen/cuda/(CudaBundle|CudaKernelShape|DeviceHeader|Nvrtc|Occupancy)\.h)"'
for f in $(grep -rlE '^#include "compiler/' runtime/exec runtime/cpu runtime/cuda); do
  grep -nE '^#include "compiler/' "$f" | grep -vE "$mlirfree" | sed "s|^|$f: includes a compiler header with MLIR: |" && bad=1
done
check runtime/exec 'mlir/' "runtime/exec/ includes MLIR"
check runtime/cpu 'mlir/' "runtime/cpu/ includes MLIR"
check runtime/cuda 'mlir/' "runtime/cuda/ includes MLIR"
# The MLIR-free compiler headers themselves include no MLIR or LLVM.
for h in compiler/DebugLevel.h compiler/kernels/KernelProgram.h compiler/codegen/Sections.h compiler/codegen/cpu/ObjectBundle.h \
         compiler/codegen/cuda/{CudaBundle,CudaKernelShape,DeviceHeader,Nvrtc,Occupancy}.h compiler/codegen/cuda/Nvrtc.cpp compiler/HrmModule.h; do
  grep -nE '^#include "(mlir|llvm)/' "$h" | sed "s|^|$h: an MLIR-free header includes |" && bad=1
done
[ $bad -eq 0 ] && echo "layers: every include looks down"
exit $bad
