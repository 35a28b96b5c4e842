#pragma once
// Backend stage 4 for the CPU (issue 6): the fused kernels of a partition (hrm ops on tensors, in
// destination-passing style) → linalg (stage 1) → element-wise fusion → one-shot bufferization →
// loops → LLVM dialect → LLVM IR optimised for the host CPU → object code → LLVM ORC (LLJIT).
// Internal to compiler/; HrmModule::compileForCpu is the public entry.
#include <memory>
#include <string>

#include "compiler/JitModule.h"
#include "mlir/IR/BuiltinOps.h"

namespace hrmc::compiler {

// Lowers the kernels in place to the LLVM dialect. With `stages`, the module after fusion (linalg on
// tensors) is printed there.
bool lowerKernelsToLLVM(mlir::ModuleOp kernels, std::string& error, std::string* fusedLinalg = nullptr);

// Kernels already lowered to the LLVM dialect → optimised LLVM IR (-O3, vectorised for the host CPU)
// → host object code, with a packed `_mlir__mlir_ciface_<kernel>(void**)` entry for each kernel. The
// kernels are compiled in parallel, one part per core: `object` is a bundle of their object files.
bool compileKernelsToObject(mlir::ModuleOp kernels, std::string& object, std::string& error);
// Loads object code from compileKernelsToObject (or the kernel cache) into an ORC JIT.
std::unique_ptr<JitModule> loadKernelObject(llvm::StringRef object, std::string& error);

// The optimised LLVM IR or the host assembly of kernels lowered to the LLVM dialect.
bool translateKernels(mlir::ModuleOp kernels, bool assembly, std::string& out, std::string& error);

}  // namespace hrmc::compiler
