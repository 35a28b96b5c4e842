// The vector-Jacobian product of every differentiable hrm op, in the order of HrmOps.td. Each rule
// gets the gradient of the op's result (g) and emits hrm ops computing the gradient of each operand.
// Forward values a rule reads (x, y, weights) become residuals of the train step.
#include "compiler/dialect/HrmDialect.h"

namespace hrmc::hrm {

namespace {

using mlir::failure;
using mlir::LogicalResult;
using mlir::OpBuilder;
using mlir::success;
using mlir::Type;
using mlir::Value;

Value constant(OpBuilder& b, mlir::Location loc, double v) { return b.create<ConstantOp>(loc, b.getF64FloatAttr(v)); }

// The gradient of a broadcast operand: sum g over the dimensions the broadcast expanded. Operands of
// another element type (a bf16 buffer added to f32 state) are buffers and get no gradient.
Value reduceTo(OpBuilder& b, mlir::Location loc, Value g, Type want) {
  if (!g) return {};
  if (g.getType() == want) return g;
  auto gt = mlir::cast<mlir::RankedTensorType>(g.getType());
  auto wt = mlir::cast<mlir::RankedTensorType>(want);
  if (gt.getElementType() != wt.getElementType()) return {};
  return b.create<UnbroadcastOp>(loc, want, g);
}

// g with a unit dimension inserted at `axis`, so that it broadcasts against the reduced input.
Value unsqueeze(OpBuilder& b, mlir::Location loc, Value g, int64_t axis) {
  auto t = mlir::cast<mlir::RankedTensorType>(g.getType());
  llvm::SmallVector<int64_t> shape(t.getShape());
  shape.insert(shape.begin() + axis, 1);
  return b.create<ReshapeOp>(loc, mlir::RankedTensorType::get(shape, t.getElementType()), g);
}

// The reduced axis of sum/mean/softmax may not be T's (leading) axis: a reshape keeps T leading.
LogicalResult checkAxis(mlir::Operation* op, int64_t axis) {
  if (axis == 0 && mlir::cast<mlir::RankedTensorType>(op->getOperand(0).getType()).isDynamicDim(0))
    return op->emitOpError("has no derivative along the token axis T");
  return success();
}

}  // namespace

LogicalResult EmbeddingOp::buildVjp(OpBuilder& b, mlir::ValueRange grads, llvm::SmallVectorImpl<Value>& out) {
  const int64_t vocab = getTable().getType().getDimSize(0);
  out.push_back(b.create<EmbeddingGradOp>(getLoc(), getTokens(), grads[0], b.getI64IntegerAttr(vocab)));
  out.push_back({});  // token ids
  return success();
}

LogicalResult LinearOp::buildVjp(OpBuilder& b, mlir::ValueRange grads, llvm::SmallVectorImpl<Value>& out) {
  // y = x Wᵀ:  dx = g W,  dW = gᵀ x (summed over tokens).
  out.push_back(b.create<MatMulOp>(getLoc(), grads[0], getWeight()));
  out.push_back(b.create<OuterSumOp>(getLoc(), grads[0], getX()));
  return success();
}

LogicalResult MatMulOp::buildVjp(OpBuilder& b, mlir::ValueRange grads, llvm::SmallVectorImpl<Value>& out) {
  // y = a B:  da = g Bᵀ,  dB = aᵀ g.
  out.push_back(b.create<LinearOp>(getLoc(), grads[0], getB()));
  out.push_back(b.create<OuterSumOp>(getLoc(), getA(), grads[0]));
  return success();
}

LogicalResult AddOp::buildVjp(OpBuilder& b, mlir::ValueRange grads, llvm::SmallVectorImpl<Value>& out) {
  out.push_back(reduceTo(b, getLoc(), grads[0], getLhs().getType()));
  out.push_back(reduceTo(b, getLoc(), grads[0], getRhs().getType()));
  return success();
}

LogicalResult SubOp::buildVjp(OpBuilder& b, mlir::ValueRange grads, llvm::SmallVectorImpl<Value>& out) {
  out.push_back(reduceTo(b, getLoc(), grads[0], getLhs().getType()));
  out.push_back(reduceTo(b, getLoc(), b.create<NegOp>(getLoc(), grads[0]), getRhs().getType()));
  return success();
}

LogicalResult MulOp::buildVjp(OpBuilder& b, mlir::ValueRange grads, llvm::SmallVectorImpl<Value>& out) {
  out.push_back(reduceTo(b, getLoc(), b.create<MulOp>(getLoc(), grads[0], getRhs()), getLhs().getType()));
  out.push_back(reduceTo(b, getLoc(), b.create<MulOp>(getLoc(), grads[0], getLhs()), getRhs().getType()));
  return success();
}

LogicalResult DivOp::buildVjp(OpBuilder& b, mlir::ValueRange grads, llvm::SmallVectorImpl<Value>& out) {
  // y = a / c:  da = g / c,  dc = −g · y / c.
  mlir::Location l = getLoc();
  out.push_back(reduceTo(b, l, b.create<DivOp>(l, grads[0], getRhs()), getLhs().getType()));
  Value gy = b.create<MulOp>(l, grads[0], getResult());
  out.push_back(reduceTo(b, l, b.create<NegOp>(l, b.create<DivOp>(l, gy, getRhs())), getRhs().getType()));
  return success();
}

LogicalResult NegOp::buildVjp(OpBuilder& b, mlir::ValueRange grads, llvm::SmallVectorImpl<Value>& out) {
  out.push_back(b.create<NegOp>(getLoc(), grads[0]));
  return success();
}

LogicalResult SigmoidOp::buildVjp(OpBuilder& b, mlir::ValueRange grads, llvm::SmallVectorImpl<Value>& out) {
  // dy/dx = y (1 − y)
  mlir::Location l = getLoc();
  Value oneMinus = b.create<SubOp>(l, constant(b, l, 1.0), getResult());
  out.push_back(b.create<MulOp>(l, grads[0], b.create<MulOp>(l, getResult(), oneMinus)));
  return success();
}

LogicalResult SiluOp::buildVjp(OpBuilder& b, mlir::ValueRange grads, llvm::SmallVectorImpl<Value>& out) {
  // d(x s)/dx = s (1 + x (1 − s)), s = sigmoid(x)
  mlir::Location l = getLoc();
  Value s = b.create<SigmoidOp>(l, getX());
  Value oneMinus = b.create<SubOp>(l, constant(b, l, 1.0), s);
  Value inner = b.create<AddOp>(l, constant(b, l, 1.0), b.create<MulOp>(l, getX(), oneMinus));
  out.push_back(b.create<MulOp>(l, grads[0], b.create<MulOp>(l, s, inner)));
  return success();
}

LogicalResult ExpOp::buildVjp(OpBuilder& b, mlir::ValueRange grads, llvm::SmallVectorImpl<Value>& out) {
  out.push_back(b.create<MulOp>(getLoc(), grads[0], getResult()));
  return success();
}

LogicalResult TanhOp::buildVjp(OpBuilder& b, mlir::ValueRange grads, llvm::SmallVectorImpl<Value>& out) {
  mlir::Location l = getLoc();
  Value y2 = b.create<MulOp>(l, getResult(), getResult());
  out.push_back(b.create<MulOp>(l, grads[0], b.create<SubOp>(l, constant(b, l, 1.0), y2)));
  return success();
}

LogicalResult SqrtOp::buildVjp(OpBuilder& b, mlir::ValueRange grads, llvm::SmallVectorImpl<Value>& out) {
  mlir::Location l = getLoc();
  out.push_back(b.create<DivOp>(l, b.create<MulOp>(l, grads[0], constant(b, l, 0.5)), getResult()));
  return success();
}

LogicalResult StopGradientOp::buildVjp(OpBuilder&, mlir::ValueRange, llvm::SmallVectorImpl<Value>& out) {
  out.push_back({});  // by definition
  return success();
}

LogicalResult RmsNormOp::buildVjp(OpBuilder& b, mlir::ValueRange grads, llvm::SmallVectorImpl<Value>& out) {
  out.push_back(b.create<RmsNormGradOp>(getLoc(), getX(), grads[0], getEpsAttr()));
  return success();
}

LogicalResult RopeOp::buildVjp(OpBuilder& b, mlir::ValueRange grads, llvm::SmallVectorImpl<Value>& out) {
  // A rotation's transpose is the rotation by the negative angle.
  out.push_back(b.create<RopeOp>(getLoc(), grads[0], getSeq(), getThetaAttr(),
                                 getInverse() ? mlir::UnitAttr() : b.getUnitAttr()));
  out.push_back({});
  return success();
}

LogicalResult AttentionOp::buildVjp(OpBuilder& b, mlir::ValueRange grads, llvm::SmallVectorImpl<Value>& out) {
  auto g = b.create<AttentionGradOp>(getLoc(), getQ(), getK(), getV(), grads[0], getSeq(), getMaskAttr());
  out.append({g.getDq(), g.getDk(), g.getDv(), Value()});
  return success();
}

LogicalResult SoftmaxOp::buildVjp(OpBuilder& b, mlir::ValueRange grads, llvm::SmallVectorImpl<Value>& out) {
  // dx = y (g − Σ_axis g y)
  const int64_t axis = static_cast<int64_t>(getAxis());
  if (failed(checkAxis(*this, axis))) return failure();
  mlir::Location l = getLoc();
  Value dot = b.create<SumOp>(l, b.create<MulOp>(l, grads[0], getResult()), b.getI64IntegerAttr(axis));
  Value centered = b.create<SubOp>(l, grads[0], unsqueeze(b, l, dot, axis));
  out.push_back(b.create<MulOp>(l, getResult(), centered));
  return success();
}

LogicalResult SumOp::buildVjp(OpBuilder& b, mlir::ValueRange grads, llvm::SmallVectorImpl<Value>& out) {
  const int64_t axis = static_cast<int64_t>(getAxis());
  if (failed(checkAxis(*this, axis))) return failure();
  out.push_back(b.create<BroadcastOp>(getLoc(), getX().getType(), unsqueeze(b, getLoc(), grads[0], axis)));
  return success();
}

LogicalResult MeanOp::buildVjp(OpBuilder& b, mlir::ValueRange grads, llvm::SmallVectorImpl<Value>& out) {
  const int64_t axis = static_cast<int64_t>(getAxis());
  if (failed(checkAxis(*this, axis))) return failure();
  mlir::Location l = getLoc();
  const double n = static_cast<double>(getX().getType().getDimSize(axis));
  Value spread = b.create<BroadcastOp>(l, getX().getType(), unsqueeze(b, l, grads[0], axis));
  out.push_back(b.create<MulOp>(l, spread, constant(b, l, 1.0 / n)));
  return success();
}

LogicalResult MaxOp::buildVjp(OpBuilder& b, mlir::ValueRange grads, llvm::SmallVectorImpl<Value>& out) {
  out.push_back(b.create<MaxGradOp>(getLoc(), getX(), grads[0], getAxisAttr()));
  return success();
}

LogicalResult ReshapeOp::buildVjp(OpBuilder& b, mlir::ValueRange grads, llvm::SmallVectorImpl<Value>& out) {
  out.push_back(b.create<ReshapeOp>(getLoc(), getX().getType(), grads[0]));
  return success();
}

LogicalResult ConvertOp::buildVjp(OpBuilder& b, mlir::ValueRange grads, llvm::SmallVectorImpl<Value>& out) {
  // The gradient in the operand's type (autodiff may already have accumulated it there).
  Value g = grads[0];
  out.push_back(g.getType() == getX().getType() ? g : b.create<ConvertOp>(getLoc(), getX().getType(), g).getResult());
  return success();
}

LogicalResult BroadcastOp::buildVjp(OpBuilder& b, mlir::ValueRange grads, llvm::SmallVectorImpl<Value>& out) {
  out.push_back(reduceTo(b, getLoc(), grads[0], getX().getType()));
  return success();
}

LogicalResult SliceOp::buildVjp(OpBuilder& b, mlir::ValueRange grads, llvm::SmallVectorImpl<Value>& out) {
  const int64_t full = mlir::cast<mlir::RankedTensorType>(getX().getType()).getDimSize(getAxis());
  out.push_back(b.create<PadOp>(getLoc(), grads[0], getAxisAttr(), getOffsetAttr(), b.getI64IntegerAttr(full)));
  return success();
}

LogicalResult ConcatOp::buildVjp(OpBuilder& b, mlir::ValueRange grads, llvm::SmallVectorImpl<Value>& out) {
  int64_t offset = 0;
  for (Value in : getInputs()) {
    const int64_t size = mlir::cast<mlir::RankedTensorType>(in.getType()).getDimSize(getAxis());
    out.push_back(b.create<SliceOp>(getLoc(), grads[0], getAxisAttr(), b.getI64IntegerAttr(offset), b.getI64IntegerAttr(size)));
    offset += size;
  }
  return success();
}

LogicalResult CrossEntropyOp::buildVjp(OpBuilder& b, mlir::ValueRange grads, llvm::SmallVectorImpl<Value>& out) {
  out.push_back(b.create<CrossEntropyGradOp>(getLoc(), getLogits(), getLabels(), grads[0]));
  out.push_back({});
  return success();
}

LogicalResult LabelMeanOp::buildVjp(OpBuilder& b, mlir::ValueRange grads, llvm::SmallVectorImpl<Value>& out) {
  out.push_back(b.create<LabelMeanGradOp>(getLoc(), getLabels(), grads[0]));
  out.push_back({});
  return success();
}

}  // namespace hrmc::hrm
