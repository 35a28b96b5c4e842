#pragma once
// Backend stage 4 for the CPU (issue 6): the fused kernels of a partition (hrm ops on tensors, in
// destination-passing style) → linalg (stage 1) → element-wise fusion → one-shot bufferization →
// loops → LLVM dialect → MLIR's ExecutionEngine (LLVM ORC, -O3, tuned for the host CPU).
// Internal to compiler/; HrmModule::compileForCpu is the public entry.
#include <memory>
#include <string>

#include "compiler/JitModule.h"
#include "mlir/IR/BuiltinOps.h"

namespace hrmc::compiler {

// Lowers the kernels in place to the LLVM dialect. With `stages`, the module after fusion (linalg on
// tensors) is printed there.
bool lowerKernelsToLLVM(mlir::ModuleOp kernels, std::string& error, std::string* fusedLinalg = nullptr);

// JIT-compiles kernels already lowered to the LLVM dialect; with `objectFile`, also writes their
// object code there (for the kernel cache).
std::unique_ptr<JitModule> jitKernels(mlir::ModuleOp kernels, std::string& error, const std::string& objectFile = "");

// The optimised LLVM IR or the host assembly of kernels lowered to the LLVM dialect.
bool translateKernels(mlir::ModuleOp kernels, bool assembly, std::string& out, std::string& error);

}  // namespace hrmc::compiler
