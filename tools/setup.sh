#!/usr/bin/env bash
# Installs every build and run dependency of hrmc on a fresh Debian bookworm machine.
# Idempotent: packages already present are skipped by apt-get; safe to run on every CI start.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git python3
  llvm-19-dev libmlir-19-dev mlir-19-tools llvm-19-tools   # MLIR/LLVM 19 (+ FileCheck)
  antlr4 libantlr4-runtime-dev                           # parser generator (4.7.2) + runtime (4.9)
  libtomlplusplus-dev nlohmann-json3-dev libcli11-dev    # config, JSON, command line
  libgtest-dev libopenblas-dev
  libdnnl-dev                                            # oneDNN: bf16 matrix products (AVX512-BF16, AMX)
  ocl-icd-opencl-dev                                     # only a recommend, but oneDNN's CMake config requires OpenCL
  clang libclang-rt-dev                                   # libFuzzer for the fuzz target
  libopenmpi-dev openmpi-bin                             # data-parallel ranks across CPU processes
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
