#pragma once
// The `fused` stage: splits one function of the hrm module into kernel launches. Library ops
// (LibraryLaunches.def) become library launches; every run of other ops between them becomes one
// fused kernel, outlined into a function in destination-passing style (inputs, then outputs).
// Target-neutral. Internal to compiler/; HrmModule::compile is the public entry.
#include <string>

#include "compiler/kernels/KernelProgram.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace hrmc::compiler {

// A kernel function's unit attribute when each row of T can be computed on its own (the launch's
// rowParallel), for code generators that map rows to parallel workers.
inline constexpr const char* kRowParallelAttr = "hrm.row_parallel";

struct Partition {
  mlir::OwningOpRef<mlir::ModuleOp> kernels;  // fused_0, fused_1, ...: hrm ops on tensors inside
  KernelProgram program;
};

// Fails with `error` when the function does not exist.
bool partitionIntoKernels(mlir::ModuleOp module, const std::string& function, Partition& out, std::string& error);

}  // namespace hrmc::compiler
