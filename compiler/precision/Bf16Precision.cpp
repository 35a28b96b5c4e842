#include "compiler/precision/Bf16Precision.h"

#include "compiler/autodiff/TrainStep.h"
#include "compiler/dialect/HrmDialect.h"
#include "compiler/precision/Precision.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"

namespace hrmc::compiler {

namespace {

mlir::RankedTensorType withElement(mlir::Type t, mlir::Type element) {
  return mlir::cast<mlir::RankedTensorType>(t).clone(element);
}

bool isF32Tensor(mlir::Type t) {
  auto r = mlir::dyn_cast<mlir::RankedTensorType>(t);
  return r && r.getElementType().isF32();
}

// Result types follow the (now bf16) operands: inferred ops re-infer, the ops with explicit result
// types keep their operand's element type, a step takes its yield's type.
bool retype(mlir::Operation* op, std::string& error) {
  if (mlir::isa<hrm::ConvertOp>(op)) return true;
  if (auto step = mlir::dyn_cast<hrm::StepOp>(op)) {
    auto yield = mlir::cast<hrm::YieldOp>(step.getBody().front().getTerminator());
    step.getResult().setType(yield.getValue().getType());
    return true;
  }
  if (mlir::isa<hrm::ReshapeOp, hrm::BroadcastOp>(op)) {
    mlir::Type element = mlir::cast<mlir::RankedTensorType>(op->getOperand(0).getType()).getElementType();
    op->getResult(0).setType(withElement(op->getResult(0).getType(), element));
    return true;
  }
  auto infer = mlir::dyn_cast<mlir::InferTypeOpInterface>(op);
  if (!infer) return true;
  llvm::SmallVector<mlir::Type> types;
  if (mlir::failed(infer.inferReturnTypes(op->getContext(), op->getLoc(), op->getOperands(), op->getAttrDictionary(),
                                          op->getPropertiesStorage(), op->getRegions(), types))) {
    error = "internal error: '" + op->getName().getStringRef().str() + "' does not take bf16 operands";
    return false;
  }
  for (auto [r, t] : llvm::zip(op->getResults(), types)) r.setType(t);
  return true;
}

// A weight gradient once widened: f32 by the contract's one exception (Precision.h).
bool isFp32GradientSum(mlir::Operation* op) {
  auto f32 = [](mlir::Value v) { return isF32Tensor(v.getType()); };
  return mlir::isa<hrm::AddOp>(op) && llvm::all_of(op->getOperands(), f32) && llvm::all_of(op->getResults(), f32);
}

// An op's results agree with the contract table, so the table stays true.
bool checkContract(mlir::Operation* op, std::string& error) {
  if (op->getDialect()->getNamespace() != "hrm" || mlir::isa<hrm::ConvertOp>(op) || isFp32GradientSum(op)) return true;
  const std::string name = op->getName().stripDialect().str();
  const OpPrecision* row = findOpPrecision(name);
  if (!row) {
    error = "internal error: the bf16 contract (compiler/precision/Precision.h) has no row for hrm." + name;
    return false;
  }
  for (mlir::Value r : op->getResults()) {
    auto t = mlir::dyn_cast<mlir::RankedTensorType>(r.getType());
    if (!t || !mlir::isa<mlir::FloatType>(t.getElementType())) continue;
    const bool bf16 = t.getElementType().isBF16();
    if (bf16 != (std::string(row->stored) == "bf16")) {
      error = "internal error: under bf16, hrm." + name + " stores " + (bf16 ? "bf16" : "f32") +
              " but the contract says " + row->stored;
      return false;
    }
  }
  return true;
}

bool convertFunction(mlir::func::FuncOp fn, std::string& error) {
  mlir::Block& entry = fn.front();
  mlir::OpBuilder b = mlir::OpBuilder::atBlockBegin(&entry);
  mlir::Type bf16 = b.getBF16Type();
  // fp32 arguments (master weights, f32 buffers and inputs) become bf16 copies where the function starts.
  for (mlir::BlockArgument arg : entry.getArguments()) {
    if (!isF32Tensor(arg.getType()) || arg.use_empty()) continue;
    auto copy = b.create<hrm::ConvertOp>(arg.getLoc(), withElement(arg.getType(), bf16), arg);
    arg.replaceAllUsesExcept(copy, copy);
  }
  bool ok = true;
  fn.walk([&](mlir::Operation* op) {  // post-order: a step's body before the step
    if (ok && op != fn.getOperation()) ok = retype(op, error);
  });
  if (!ok) return false;
  // Results keep the function's f32 interface.
  auto ret = mlir::cast<mlir::func::ReturnOp>(entry.getTerminator());
  b.setInsertionPoint(ret);
  for (mlir::OpOperand& result : ret->getOpOperands()) {
    const mlir::Type want = fn.getResultTypes()[result.getOperandNumber()];
    if (result.get().getType() != want)
      result.set(b.create<hrm::ConvertOp>(ret.getLoc(), want, result.get()));
  }
  return checkBf16Contract(fn, error);
}

}  // namespace

bool checkBf16Contract(mlir::Operation* function, std::string& error) {
  bool ok = true;
  function->walk([&](mlir::Operation* op) {
    if (ok && op != function) ok = checkContract(op, error);
  });
  return ok;
}

bool applyBf16Precision(mlir::ModuleOp module, std::string& error) {
  if (module->hasAttr(kPrecisionAttr)) {
    error = "the module is already compiled for " + mlir::cast<mlir::StringAttr>(module->getAttr(kPrecisionAttr)).str();
    return false;
  }
  for (auto fn : module.getOps<mlir::func::FuncOp>()) {
    if (fn->hasAttr(kGradNamesAttr)) {
      error = "the bf16 pass runs before train steps are built ('" + fn.getName().str() + "' exists)";
      return false;
    }
    if (!convertFunction(fn, error)) return false;
  }
  module->setAttr(kPrecisionAttr, mlir::StringAttr::get(module.getContext(), "bf16"));
  if (mlir::failed(mlir::verify(module))) {
    error = "internal error: the module does not verify after the bf16 pass";
    return false;
  }
  return true;
}

}  // namespace hrmc::compiler
