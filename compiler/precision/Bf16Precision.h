#pragma once
// The bf16 precision pass (HRM-TEXT.md §1.12, the table in Precision.h): fp32 master weights are
// converted to bf16 copies where each function starts, every activation, residual and recurrent state
// becomes bf16 (each op computes in fp32 and rounds its result once), losses and metrics stay fp32,
// and bf16 results return as f32. Runs on `forward` and `loss` before any train step is built;
// autodiff then accumulates each weight's gradient in fp32. Internal to compiler/ (includes MLIR).
#include <string>

namespace mlir {
class ModuleOp;
class Operation;
}  // namespace mlir

namespace hrmc::compiler {

inline constexpr const char* kPrecisionAttr = "hrm.precision";  // module attribute: "bf16" after the pass

bool applyBf16Precision(mlir::ModuleOp module, std::string& error);
// Whether every op of `function` (of a bf16 module) stores its results as the contract table says;
// the pass checks its output, HrmModule each train step it builds.
bool checkBf16Contract(mlir::Operation* function, std::string& error);

}  // namespace hrmc::compiler
