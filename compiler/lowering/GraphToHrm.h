#pragma once
// ModelGraph → `hrm` dialect. Internal to compiler/: HrmModule::fromGraph is the public entry.
#include <string>

#include "compiler/dialect/HrmDialect.h"
#include "dsl/sema/ModelGraph.h"
#include "mlir/IR/BuiltinOps.h"

namespace hrmc::compiler {

// Names of the entry points and of the attributes the lowering puts on function arguments.
inline constexpr const char* kForwardFn = "forward";
inline constexpr const char* kLossFn = "loss";
inline constexpr const char* kArgNameAttr = "hrm.name";      // reference parameter name / input name
inline constexpr const char* kBufferAttr = "hrm.buffer";     // an untrained buffer (zL_init)
inline constexpr const char* kInitAttr = "hrm.init";         // initializer: trunc_normal | zeros | ones
inline constexpr const char* kInitStdAttr = "hrm.init_std";  // its standard deviation (trunc_normal)
// On the module: the credit window's split order over levels (["G", "H", "L"]), written only where it
// is not the two-level default (H, then L) that hand-written IR relies on.
inline constexpr const char* kCreditSplitAttr = "hrm.credit_split";

bool lowerGraph(const dsl::ModelGraph& graph, const dsl::SourceManager& sources, mlir::ModuleOp module,
                std::string& error);

}  // namespace hrmc::compiler
