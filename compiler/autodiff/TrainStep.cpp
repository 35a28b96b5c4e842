#include "compiler/autodiff/TrainStep.h"

#include "dsl/sema/CreditSplit.h"

#include "compiler/dialect/HrmDialect.h"
#include "compiler/lowering/GraphToHrm.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Verifier.h"

namespace hrmc::compiler {

std::string trainStepName(int K, bool remat) { return "train_step_k" + std::to_string(K) + (remat ? "_remat" : ""); }

namespace {

std::vector<hrm::StepOp> topLevelSteps(mlir::func::FuncOp fn) {
  std::vector<hrm::StepOp> steps;
  for (mlir::Operation& op : fn.front())
    if (auto s = mlir::dyn_cast<hrm::StepOp>(op)) steps.push_back(s);
  return steps;
}

std::string label(hrm::StepOp s) { return (s.getLevel() + llvm::Twine(s.getIndex())).str(); }

bool isTrainable(mlir::func::FuncOp fn, unsigned i) {
  auto t = mlir::dyn_cast<mlir::RankedTensorType>(fn.getArgument(i).getType());
  return t && mlir::isa<mlir::FloatType>(t.getElementType()) && fn.getArgAttr(i, kArgNameAttr) &&
         !fn.getArgAttr(i, kBufferAttr);
}

// Recomputes a remat step's forward just before its first backward use, so the backward reads the
// recomputed values and only the step's inputs stay alive as residuals.
void rematerialize(mlir::Block& block, const std::string& tag) {
  llvm::SmallVector<mlir::Operation*> forward;
  llvm::DenseSet<mlir::Value> inside;
  for (mlir::Operation& op : block)
    if (auto t = op.getAttrOfType<mlir::StringAttr>(kStepTagAttr); t && t.getValue() == tag) {
      forward.push_back(&op);
      for (mlir::Value r : op.getResults()) inside.insert(r);
    }
  mlir::Operation* firstUse = nullptr;
  for (mlir::Operation& op : block)
    if (op.hasAttr(kBackwardAttr) && llvm::any_of(op.getOperands(), [&](mlir::Value v) { return inside.contains(v); })) {
      firstUse = &op;
      break;
    }
  if (!firstUse) return;
  mlir::OpBuilder b(firstUse);
  mlir::IRMapping map;
  for (mlir::Operation* op : forward) {
    mlir::Operation* clone = b.clone(*op, map);
    clone->removeAttr(kStepTagAttr);
    clone->setAttr(kBackwardAttr, b.getStringAttr("remat " + tag));
  }
  for (mlir::Operation* it = firstUse; it; it = it->getNextNode())
    for (mlir::OpOperand& use : it->getOpOperands())
      if (mlir::Value v = map.lookupOrNull(use.get()); v && it->hasAttr(kBackwardAttr)) use.set(v);
}

}  // namespace

// Moves a window step's body in front of it, tags the moved ops, and replaces the step by its value.
void inlineStep(hrm::StepOp step) {
  mlir::Block& body = step.getBody().front();
  auto yield = mlir::cast<hrm::YieldOp>(body.getTerminator());
  mlir::Value value = yield.getValue();
  mlir::StringAttr tag = mlir::StringAttr::get(step.getContext(), label(step) + ":" + step.getCallee());
  for (mlir::Operation& op : body.without_terminator()) op.setAttr(kStepTagAttr, tag);
  mlir::Block* parent = step->getBlock();
  parent->getOperations().splice(step->getIterator(), body.getOperations(), body.begin(), std::prev(body.end()));
  step.getResult().replaceAllUsesWith(value);
  step.erase();
}


bool creditWindow(mlir::func::FuncOp fn, int K, std::vector<bool>& inWindow, std::string& error) {
  std::vector<hrm::StepOp> steps = topLevelSteps(fn);
  inWindow.assign(steps.size(), false);
  if (steps.empty()) return true;
  std::vector<std::string> levels;
  for (hrm::StepOp s : steps) levels.push_back(s.getLevel().str());
  std::vector<std::string> order = dsl::defaultCreditSplit(levels);
  if (auto module = fn->getParentOfType<mlir::ModuleOp>())
    if (auto recorded = module->getAttrOfType<mlir::ArrayAttr>(kCreditSplitAttr)) {
      order.clear();
      for (mlir::Attribute a : recorded) {
        auto name = mlir::dyn_cast<mlir::StringAttr>(a);
        if (!name) {
          error = std::string("the module's ") + kCreditSplitAttr + " must list level names";
          return false;
        }
        order.push_back(name.str());
      }
    }
  std::string why;
  inWindow = dsl::stepsInCreditWindow(K, order, levels, &why);
  if (!why.empty()) error = why;
  return why.empty();
}

mlir::func::FuncOp buildTrainStep(mlir::ModuleOp module, int K, const std::set<std::string>& remat, std::string& error) {
  const std::string name = trainStepName(K, !remat.empty());
  if (auto existing = module.lookupSymbol<mlir::func::FuncOp>(name)) return existing;
  auto loss = module.lookupSymbol<mlir::func::FuncOp>(kLossFn);
  if (!loss) {
    error = "the module has no 'loss' function to differentiate (a model whose forward takes token ids has one)";
    return {};
  }
  mlir::func::FuncOp fn = loss.clone();
  fn.setName(name);
  module.push_back(fn);
  mlir::OpBuilder b(fn.getContext());

  // 1. The credit window: inline the steps that carry gradient, mark the others forward-only.
  std::vector<bool> inWindow;
  if (!creditWindow(fn, K, inWindow, error)) {
    fn.erase();
    return {};
  }
  std::vector<hrm::StepOp> steps = topLevelSteps(fn);
  std::set<std::string> rematTags;
  for (size_t i = 0; i < steps.size(); ++i) {
    if (!inWindow[i]) {
      steps[i]->setAttr(kForwardOnlyAttr, b.getUnitAttr());
      continue;
    }
    if (remat.count(steps[i].getCallee().str())) rematTags.insert(label(steps[i]) + ":" + steps[i].getCallee().str());
    inlineStep(steps[i]);
  }

  // 2. Activity: values that depend on a trainable weight through differentiable ops.
  mlir::Block& block = fn.front();
  llvm::DenseSet<mlir::Value> active;
  for (unsigned i = 0; i < fn.getNumArguments(); ++i)
    if (isTrainable(fn, i)) active.insert(fn.getArgument(i));
  std::vector<mlir::Operation*> forward;
  auto ret = mlir::cast<mlir::func::ReturnOp>(block.getTerminator());
  for (mlir::Operation& op : block.without_terminator()) {
    forward.push_back(&op);
    if (mlir::isa<hrm::StepOp, hrm::StopGradientOp>(op)) continue;  // forward-only: constants for the backward
    if (llvm::any_of(op.getOperands(), [&](mlir::Value v) { return active.contains(v); }))
      for (mlir::Value r : op.getResults()) active.insert(r);
  }

  // 3. Reverse sweep from d loss = 1, accumulating adjoints of values used more than once.
  llvm::DenseMap<mlir::Value, mlir::Value> adjoint;
  mlir::Value lossValue = ret.getOperand(0);
  b.setInsertionPoint(ret);
  mlir::Operation* firstBackward = nullptr;
  if (active.contains(lossValue)) {
    auto seed = b.create<hrm::ConstantOp>(ret.getLoc(), b.getF64FloatAttr(1.0));
    firstBackward = seed;
    adjoint[lossValue] = seed;
  }
  for (auto it = forward.rbegin(); it != forward.rend(); ++it) {
    mlir::Operation* op = *it;
    llvm::SmallVector<mlir::Value> resultGrads;
    bool any = false;
    for (mlir::Value r : op->getResults()) {
      resultGrads.push_back(adjoint.lookup(r));
      any |= static_cast<bool>(resultGrads.back());
    }
    if (!any || !llvm::any_of(op->getOperands(), [&](mlir::Value v) { return active.contains(v); })) continue;
    auto vjp = mlir::dyn_cast<hrm::VjpOpInterface>(op);
    if (!vjp) {
      mlir::InFlightDiagnostic d = op->emitError("has no derivative, but gradient must flow through it");
      error = "autodiff failed: '" + op->getName().getStringRef().str() + "' has no derivative";
      fn.erase();
      return {};
    }
    b.setInsertionPoint(ret);
    llvm::SmallVector<mlir::Value> operandGrads;
    if (mlir::failed(vjp.buildVjp(b, resultGrads, operandGrads))) {
      error = "autodiff failed at '" + op->getName().getStringRef().str() + "'";
      fn.erase();
      return {};
    }
    for (unsigned i = 0; i < op->getNumOperands() && i < operandGrads.size(); ++i) {
      mlir::Value operand = op->getOperand(i), g = operandGrads[i];
      if (!g || !active.contains(operand)) continue;
      // A narrowing convert's gradient accumulates in the wider type: each use of a bf16 weight copy
      // adds its contribution to the fp32 gradient (HRM-TEXT.md §1.12: accumulate in fp32).
      if (auto narrowing = operand.getDefiningOp<hrm::ConvertOp>()) {
        auto wide = mlir::cast<mlir::ShapedType>(narrowing.getX().getType());
        if (wide.getElementTypeBitWidth() > mlir::cast<mlir::ShapedType>(g.getType()).getElementTypeBitWidth())
          g = b.create<hrm::ConvertOp>(op->getLoc(), wide, g);
      }
      mlir::Value& acc = adjoint[operand];
      acc = acc ? b.create<hrm::AddOp>(op->getLoc(), acc, g).getResult() : g;
    }
  }
  // Everything between the seed and the return is backward code.
  if (firstBackward)
    for (mlir::Operation* op = firstBackward; op != ret; op = op->getNextNode()) op->setAttr(kBackwardAttr, b.getUnitAttr());
  for (const std::string& tag : rematTags) rematerialize(block, tag);

  // 4. Results: the loss function's, then each trainable weight's gradient (fp32 accumulation).
  llvm::SmallVector<mlir::Value> results(ret.getOperands());
  llvm::SmallVector<mlir::Attribute> names;
  for (unsigned i = 0; i < fn.getNumArguments(); ++i) {
    if (!isTrainable(fn, i)) continue;
    mlir::Value g = adjoint.lookup(fn.getArgument(i));
    if (!g) continue;  // no gradient reaches it at this K ("no gradient", not zeros)
    results.push_back(g);
    names.push_back(fn.getArgAttr(i, kArgNameAttr));
  }
  b.setInsertionPoint(ret);
  b.create<mlir::func::ReturnOp>(ret.getLoc(), results);
  ret.erase();
  fn.setType(b.getFunctionType(fn.getArgumentTypes(), mlir::ValueRange(results).getTypes()));
  fn->setAttr(kGradNamesAttr, b.getArrayAttr(names));
  fn->setAttr("hrm.credit_window", b.getI64IntegerAttr(K));
  if (mlir::failed(mlir::verify(fn))) {
    error = "internal error: the train step does not verify";
    return {};
  }
  return fn;
}

}  // namespace hrmc::compiler
