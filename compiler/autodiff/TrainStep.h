#pragma once
// Reverse-mode autodiff on the hrm dialect: builds `train_step_k{K}` from `loss`. Internal to
// compiler/; HrmModule::trainStep is the public entry.
#include <set>
#include <string>
#include <vector>

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "compiler/dialect/HrmDialect.h"
#include "mlir/IR/BuiltinOps.h"

namespace hrmc::compiler {

inline constexpr const char* kGradNamesAttr = "hrm.grads";      // on train_step: weights with a gradient result
inline constexpr const char* kStepTagAttr = "hrm.step";         // on forward ops of an inlined window step
inline constexpr const char* kForwardOnlyAttr = "forward_only";  // on hrm.step ops outside the window
inline constexpr const char* kBackwardAttr = "hrm.backward";     // on every op the differentiation added

std::string trainStepName(int K, bool remat);

// Moves a step's body in front of it, tags the moved ops with the step's label (kStepTagAttr), and
// replaces the step by its value.
void inlineStep(hrm::StepOp step);

// Which recurrent steps carry gradient at credit window K (HRM-TEXT.md §2; dsl/sema/CreditSplit.h is
// the rule, the module's hrm.credit_split the order), by position among the function's top-level
// hrm.step ops. Fails if K does not fit the recurrence.
bool creditWindow(mlir::func::FuncOp fn, int K, std::vector<bool>& inWindow, std::string& error);

// Clones `loss` into `train_step_k{K}` (`..._remat` with remat) returning (loss, accuracy, exact accuracy, then the gradient of
// every trainable weight that receives one, named by the hrm.grads attribute). Steps in the window
// are inlined and differentiated; the others stay forward-only hrm.step regions. Steps whose callee
// module is in `remat` recompute their forward in the backward instead of keeping residuals.
mlir::func::FuncOp buildTrainStep(mlir::ModuleOp module, int K, const std::set<std::string>& remat,
                                  std::string& error);

}  // namespace hrmc::compiler
