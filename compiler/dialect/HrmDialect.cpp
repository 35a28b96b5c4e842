// Dialect registration and the generated op/type definitions.
#include "compiler/dialect/HrmDialect.h"

#include "llvm/ADT/TypeSwitch.h"
#include "mlir/IR/DialectImplementation.h"

#include "compiler/dialect/HrmDialect.cpp.inc"
#include "compiler/dialect/HrmVjpInterface.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "compiler/dialect/HrmTypes.cpp.inc"

#define GET_OP_CLASSES
#include "compiler/dialect/HrmOps.cpp.inc"

namespace hrmc::hrm {

void HrmDialect::initialize() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "compiler/dialect/HrmTypes.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "compiler/dialect/HrmOps.cpp.inc"
      >();
}

}  // namespace hrmc::hrm
