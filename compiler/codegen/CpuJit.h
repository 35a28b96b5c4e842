#pragma once
// Backend stage 2 (in progress, issue 6): JIT-compiles a function whose hrm ops are all lowered to
// linalg/tensor/arith/math: one-shot bufferization, loops, LLVM dialect, then MLIR's ExecutionEngine
// (LLVM ORC, -O3, host CPU). Internal to compiler/; HrmModule::jit is the public entry.
#include <memory>
#include <string>

#include "compiler/JitFunction.h"
#include "mlir/IR/BuiltinOps.h"

namespace hrmc::compiler {

std::unique_ptr<JitFunction> compileForCpu(mlir::ModuleOp module, const std::string& function, std::string& error);

}  // namespace hrmc::compiler
