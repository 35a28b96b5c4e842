#pragma once
// The `hrm` dialect's C++ API (generated from HrmDialect.td / HrmOps.td). Include only from .cpp
// files that work on MLIR: it pulls in the MLIR headers.
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "compiler/dialect/HrmDialect.h.inc"
#include "compiler/dialect/HrmVjpInterface.h.inc"

#define GET_TYPEDEF_CLASSES
#include "compiler/dialect/HrmTypes.h.inc"

#define GET_OP_CLASSES
#include "compiler/dialect/HrmOps.h.inc"

namespace hrmc::hrm {

// The label value that marks a token without a target (HRM-TEXT.md §3.5).
constexpr int32_t kIgnoreLabel = -100;

}  // namespace hrmc::hrm
