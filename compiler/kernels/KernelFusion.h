#pragma once
// The target-neutral stages after the partition, on the module of outlined fused kernels (hrm ops on
// tensors, destination-passing style): every target's code generator starts from their output.
// Internal to compiler/.
#include <string>

#include "mlir/IR/BuiltinOps.h"

namespace hrmc::compiler {

// Loads every dialect the kernel stages and the code generators use into the kernels' context.
void registerKernelDialects(mlir::MLIRContext& ctx);

// Stage `kernels`: hrm → linalg on tensors, then producer/consumer loop nests merged (element-wise
// fusion). Each kernel stays one function.
bool fuseKernels(mlir::ModuleOp kernels, std::string& error);

// Fused kernels → memrefs: each result written straight into the output buffer its caller passes
// (the tensor.empty it is built in becomes its destination argument), intermediates allocated and
// freed inside the kernel, copies as linalg.copy loops.
bool bufferizeKernels(mlir::ModuleOp kernels, std::string& error);

}  // namespace hrmc::compiler
