// Type inference and verification of the hrm ops. Inferred ops check their operands in
// inferReturnTypes (used by builders and, through InferTypeOpInterface, by the verifier); the other
// ops have a verify() here.
#include "compiler/dialect/HrmDialect.h"
#include "dsl/sema/ModelGraph.h"

#include "mlir/IR/Diagnostics.h"

namespace hrmc::hrm {

namespace {

using mlir::failure;
using mlir::LogicalResult;
using mlir::RankedTensorType;
using mlir::ShapedType;
using mlir::success;
using mlir::Type;

RankedTensorType ranked(Type t) { return mlir::cast<RankedTensorType>(t); }

LogicalResult fail(std::optional<mlir::Location> loc, const llvm::Twine& message) {
  if (loc) mlir::emitError(*loc) << message;
  return failure();
}

std::string str(Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  t.print(os);
  return s;
}

// The dsl's promotion rule (dsl::promote) on element types.
dsl::DType dtypeOf(Type t) { return t.isBF16() ? dsl::DType::BF16 : t.isInteger(32) ? dsl::DType::I32 : dsl::DType::F32; }
Type promote(Type a, Type b) { return dsl::promote(dtypeOf(a), dtypeOf(b)) == dtypeOf(a) ? a : b; }

LogicalResult result(llvm::SmallVectorImpl<Type>& out, llvm::ArrayRef<int64_t> shape, Type elem) {
  out.push_back(RankedTensorType::get(shape, elem));
  return success();
}

LogicalResult axisIn(std::optional<mlir::Location> loc, int64_t axis, int64_t rank) {
  if (axis < 0 || axis >= rank) return fail(loc, "axis " + llvm::Twine(axis) + " is out of range for rank " + llvm::Twine(rank));
  return success();
}

LogicalResult tokenVector(std::optional<mlir::Location> loc, RankedTensorType labels, RankedTensorType perToken,
                          llvm::StringRef what) {
  if (labels.getRank() != 1 || perToken.getRank() < 1 || labels.getDimSize(0) != perToken.getDimSize(0))
    return fail(loc, what + " needs [T, ...] values and [T] labels, got " + str(perToken) + " and " + str(labels));
  return success();
}

}  // namespace

LogicalResult ConstantOp::inferReturnTypes(mlir::MLIRContext* ctx, std::optional<mlir::Location>, Adaptor,
                                           llvm::SmallVectorImpl<Type>& out) {
  return result(out, {}, mlir::Float32Type::get(ctx));
}

LogicalResult EmbeddingOp::inferReturnTypes(mlir::MLIRContext*, std::optional<mlir::Location> loc, Adaptor a,
                                            llvm::SmallVectorImpl<Type>& out) {
  auto table = ranked(a.getTable().getType());
  auto tokens = ranked(a.getTokens().getType());
  if (table.getRank() != 2) return fail(loc, "embedding table must be [V, d], got " + str(table));
  llvm::SmallVector<int64_t> shape(tokens.getShape());
  shape.push_back(table.getDimSize(1));
  return result(out, shape, table.getElementType());
}

LogicalResult LinearOp::inferReturnTypes(mlir::MLIRContext*, std::optional<mlir::Location> loc, Adaptor a,
                                         llvm::SmallVectorImpl<Type>& out) {
  auto x = ranked(a.getX().getType());
  auto w = ranked(a.getWeight().getType());
  if (x.getRank() < 1 || w.getRank() != 2 || x.getShape().back() != w.getDimSize(1))
    return fail(loc, "linear needs x [..., in] and weight [out, in], got " + str(x) + " and " + str(w));
  llvm::SmallVector<int64_t> shape(x.getShape());
  shape.back() = w.getDimSize(0);
  return result(out, shape, promote(x.getElementType(), w.getElementType()));
}

LogicalResult MatMulOp::inferReturnTypes(mlir::MLIRContext*, std::optional<mlir::Location> loc, Adaptor a,
                                         llvm::SmallVectorImpl<Type>& out) {
  auto x = ranked(a.getA().getType());
  auto b = ranked(a.getB().getType());
  if (x.getRank() < 1 || b.getRank() != 2 || x.getShape().back() != b.getDimSize(0))
    return fail(loc, "matmul needs [..., k] and [k, n], got " + str(x) + " and " + str(b));
  llvm::SmallVector<int64_t> shape(x.getShape());
  shape.back() = b.getDimSize(1);
  return result(out, shape, promote(x.getElementType(), b.getElementType()));
}

namespace {
LogicalResult inferBroadcast(std::optional<mlir::Location> loc, mlir::Value lhs, mlir::Value rhs,
                             llvm::SmallVectorImpl<Type>& out) {
  auto a = ranked(lhs.getType());
  auto b = ranked(rhs.getType());
  const int64_t rank = std::max(a.getRank(), b.getRank());
  llvm::SmallVector<int64_t> shape(rank, 1);
  for (int64_t i = 0; i < rank; ++i) {
    const int64_t da = i < a.getRank() ? a.getDimSize(a.getRank() - 1 - i) : 1;
    const int64_t db = i < b.getRank() ? b.getDimSize(b.getRank() - 1 - i) : 1;
    int64_t d;
    if (da == db) d = da;
    else if (da == 1) d = db;
    else if (db == 1) d = da;
    else return fail(loc, "operands do not broadcast: " + str(a) + " and " + str(b));
    shape[rank - 1 - i] = d;
  }
  const dsl::DType e = dsl::promoteElementwise(dtypeOf(a.getElementType()), a.getRank() == 0,
                                               dtypeOf(b.getElementType()), b.getRank() == 0);
  return result(out, shape, e == dtypeOf(a.getElementType()) ? a.getElementType() : b.getElementType());
}
}  // namespace

#define HRM_BINARY_INFER(OP)                                                                                 \
  LogicalResult OP::inferReturnTypes(mlir::MLIRContext*, std::optional<mlir::Location> loc, Adaptor a,       \
                                     llvm::SmallVectorImpl<Type>& out) {                                     \
    return inferBroadcast(loc, a.getLhs(), a.getRhs(), out);                                                 \
  }
HRM_BINARY_INFER(AddOp)
HRM_BINARY_INFER(SubOp)
HRM_BINARY_INFER(MulOp)
HRM_BINARY_INFER(DivOp)
#undef HRM_BINARY_INFER

#define HRM_UNARY_INFER(OP)                                                                            \
  LogicalResult OP::inferReturnTypes(mlir::MLIRContext*, std::optional<mlir::Location>, Adaptor a,     \
                                     llvm::SmallVectorImpl<Type>& out) {                               \
    out.push_back(a.getX().getType());                                                                 \
    return success();                                                                                  \
  }
HRM_UNARY_INFER(NegOp)
HRM_UNARY_INFER(SigmoidOp)
HRM_UNARY_INFER(SiluOp)
HRM_UNARY_INFER(ExpOp)
HRM_UNARY_INFER(TanhOp)
HRM_UNARY_INFER(SqrtOp)
HRM_UNARY_INFER(StopGradientOp)
#undef HRM_UNARY_INFER

LogicalResult RmsNormOp::inferReturnTypes(mlir::MLIRContext*, std::optional<mlir::Location> loc, Adaptor a,
                                          llvm::SmallVectorImpl<Type>& out) {
  if (ranked(a.getX().getType()).getRank() < 1) return fail(loc, "rms_norm needs rank >= 1");
  // While parsing, inference runs before the attribute dictionary is read: check eps once it is there
  // (the verifier runs inference again).
  if (a.getEpsAttr() && a.getEps().convertToDouble() <= 0) return fail(loc, "rms_norm eps must be positive");
  out.push_back(a.getX().getType());
  return success();
}

LogicalResult RopeOp::inferReturnTypes(mlir::MLIRContext*, std::optional<mlir::Location> loc, Adaptor a,
                                       llvm::SmallVectorImpl<Type>& out) {
  auto x = ranked(a.getX().getType());
  if (x.getRank() != 3 || x.getDimSize(2) == ShapedType::kDynamic || x.getDimSize(2) % 2 != 0)
    return fail(loc, "rope needs [T, heads, head_dim] with an even head_dim, got " + str(x));
  out.push_back(x);
  return success();
}

LogicalResult AttentionOp::inferReturnTypes(mlir::MLIRContext*, std::optional<mlir::Location> loc, Adaptor a,
                                            llvm::SmallVectorImpl<Type>& out) {
  auto q = ranked(a.getQ().getType());
  if (q.getRank() != 3 || a.getK().getType() != q || a.getV().getType() != q)
    return fail(loc, "attention needs q, k, v of one type [T, heads, head_dim]");
  // As for rms_norm's eps: the mask is checked once the attributes are read.
  if (a.getMaskAttr()) {
    llvm::StringRef m = a.getMask();
    if (m != "prefixlm" && m != "causal" && m != "full") return fail(loc, "mask must be prefixlm, causal or full, got '" + m + "'");
  }
  out.push_back(q);
  return success();
}

#define HRM_AXIS_INFER(OP, KEEP)                                                                              \
  LogicalResult OP::inferReturnTypes(mlir::MLIRContext*, std::optional<mlir::Location> loc, Adaptor a,        \
                                     llvm::SmallVectorImpl<Type>& out) {                                      \
    auto x = ranked(a.getX().getType());                                                                      \
    const int64_t axis = static_cast<int64_t>(a.getAxis());                                                   \
    if (failed(axisIn(loc, axis, x.getRank()))) return failure();                                             \
    llvm::SmallVector<int64_t> shape(x.getShape());                                                           \
    if (!(KEEP)) shape.erase(shape.begin() + axis);                                                           \
    return result(out, shape, x.getElementType());                                                            \
  }
HRM_AXIS_INFER(SoftmaxOp, true)
HRM_AXIS_INFER(SumOp, false)
HRM_AXIS_INFER(MeanOp, false)
HRM_AXIS_INFER(MaxOp, false)
#undef HRM_AXIS_INFER

LogicalResult SliceOp::inferReturnTypes(mlir::MLIRContext*, std::optional<mlir::Location> loc, Adaptor a,
                                        llvm::SmallVectorImpl<Type>& out) {
  auto x = ranked(a.getX().getType());
  const int64_t axis = static_cast<int64_t>(a.getAxis());
  const int64_t offset = static_cast<int64_t>(a.getOffset()), size = static_cast<int64_t>(a.getSize());
  if (failed(axisIn(loc, axis, x.getRank()))) return failure();
  const int64_t dim = x.getDimSize(axis);
  if (dim == ShapedType::kDynamic || offset < 0 || size <= 0 || offset + size > dim)
    return fail(loc, "slice [" + llvm::Twine(offset) + ", " + llvm::Twine(offset + size) + ") does not fit axis " +
                         llvm::Twine(axis) + " of " + str(x));
  llvm::SmallVector<int64_t> shape(x.getShape());
  shape[axis] = size;
  return result(out, shape, x.getElementType());
}

LogicalResult ConcatOp::inferReturnTypes(mlir::MLIRContext*, std::optional<mlir::Location> loc, Adaptor a,
                                         llvm::SmallVectorImpl<Type>& out) {
  if (a.getInputs().empty()) return fail(loc, "concat needs at least one input");
  auto first = ranked(a.getInputs().front().getType());
  const int64_t axis = static_cast<int64_t>(a.getAxis());
  if (failed(axisIn(loc, axis, first.getRank()))) return failure();
  llvm::SmallVector<int64_t> shape(first.getShape());
  shape[axis] = 0;
  for (mlir::Value v : a.getInputs()) {
    auto t = ranked(v.getType());
    bool ok = t.getRank() == first.getRank() && t.getElementType() == first.getElementType() &&
              t.getDimSize(axis) != ShapedType::kDynamic;
    for (int64_t d = 0; ok && d < t.getRank(); ++d) ok = d == axis || t.getDimSize(d) == first.getDimSize(d);
    if (!ok) return fail(loc, "cannot concatenate " + str(first) + " with " + str(t) + " along axis " + llvm::Twine(axis));
    shape[axis] += t.getDimSize(axis);
  }
  return result(out, shape, first.getElementType());
}

LogicalResult CrossEntropyOp::inferReturnTypes(mlir::MLIRContext* ctx, std::optional<mlir::Location> loc, Adaptor a,
                                               llvm::SmallVectorImpl<Type>& out) {
  auto logits = ranked(a.getLogits().getType());
  auto labels = ranked(a.getLabels().getType());
  if (logits.getRank() != 2 || failed(tokenVector(loc, labels, logits, "cross_entropy"))) return failure();
  return result(out, labels.getShape(), mlir::Float32Type::get(ctx));
}

LogicalResult ArgmaxMatchOp::inferReturnTypes(mlir::MLIRContext* ctx, std::optional<mlir::Location> loc, Adaptor a,
                                              llvm::SmallVectorImpl<Type>& out) {
  auto logits = ranked(a.getLogits().getType());
  auto labels = ranked(a.getLabels().getType());
  if (logits.getRank() != 2 || failed(tokenVector(loc, labels, logits, "argmax_match"))) return failure();
  return result(out, labels.getShape(), mlir::Float32Type::get(ctx));
}

LogicalResult LabelMeanOp::inferReturnTypes(mlir::MLIRContext* ctx, std::optional<mlir::Location> loc, Adaptor a,
                                            llvm::SmallVectorImpl<Type>& out) {
  auto values = ranked(a.getValues().getType());
  if (values.getRank() != 1 || failed(tokenVector(loc, ranked(a.getLabels().getType()), values, "label_mean")))
    return failure();
  return result(out, {}, mlir::Float32Type::get(ctx));
}

LogicalResult ExactMatchOp::inferReturnTypes(mlir::MLIRContext* ctx, std::optional<mlir::Location> loc, Adaptor a,
                                             llvm::SmallVectorImpl<Type>& out) {
  auto match = ranked(a.getMatch().getType());
  if (match.getRank() != 1 || failed(tokenVector(loc, ranked(a.getLabels().getType()), match, "exact_match")))
    return failure();
  return result(out, {}, mlir::Float32Type::get(ctx));
}

// ---------------------------------------------------------------- backward-only ops

LogicalResult OuterSumOp::inferReturnTypes(mlir::MLIRContext*, std::optional<mlir::Location> loc, Adaptor a,
                                           llvm::SmallVectorImpl<Type>& out) {
  auto x = ranked(a.getA().getType());
  auto y = ranked(a.getB().getType());
  if (x.getRank() < 1 || x.getRank() != y.getRank() || x.getShape().drop_back() != y.getShape().drop_back())
    return fail(loc, "outer_sum needs [..., m] and [..., n] with equal leading dimensions, got " + str(x) + " and " + str(y));
  return result(out, {x.getShape().back(), y.getShape().back()}, promote(x.getElementType(), y.getElementType()));
}

LogicalResult EmbeddingGradOp::inferReturnTypes(mlir::MLIRContext*, std::optional<mlir::Location> loc, Adaptor a,
                                                llvm::SmallVectorImpl<Type>& out) {
  auto tokens = ranked(a.getTokens().getType());
  auto g = ranked(a.getGrad().getType());
  if (g.getRank() != tokens.getRank() + 1 || g.getShape().drop_back() != tokens.getShape() || a.getVocab() <= 0)
    return fail(loc, "embedding_grad needs tokens [...] and gradients [..., d], got " + str(tokens) + " and " + str(g));
  return result(out, {static_cast<int64_t>(a.getVocab()), g.getShape().back()}, g.getElementType());
}

LogicalResult RmsNormGradOp::inferReturnTypes(mlir::MLIRContext*, std::optional<mlir::Location> loc, Adaptor a,
                                              llvm::SmallVectorImpl<Type>& out) {
  if (a.getX().getType() != a.getGrad().getType()) return fail(loc, "rms_norm_grad needs x and its gradient of one type");
  out.push_back(a.getX().getType());
  return success();
}

LogicalResult CrossEntropyGradOp::inferReturnTypes(mlir::MLIRContext*, std::optional<mlir::Location> loc, Adaptor a,
                                                   llvm::SmallVectorImpl<Type>& out) {
  auto logits = ranked(a.getLogits().getType());
  if (logits.getRank() != 2 || failed(tokenVector(loc, ranked(a.getLabels().getType()), logits, "cross_entropy_grad")) ||
      failed(tokenVector(loc, ranked(a.getLabels().getType()), ranked(a.getGrad().getType()), "cross_entropy_grad")))
    return failure();
  out.push_back(logits);
  return success();
}

LogicalResult LabelMeanGradOp::inferReturnTypes(mlir::MLIRContext* ctx, std::optional<mlir::Location> loc, Adaptor a,
                                                llvm::SmallVectorImpl<Type>& out) {
  auto labels = ranked(a.getLabels().getType());
  if (labels.getRank() != 1 || ranked(a.getGrad().getType()).getRank() != 0)
    return fail(loc, "label_mean_grad needs labels [T] and a scalar gradient");
  return result(out, labels.getShape(), mlir::Float32Type::get(ctx));
}

LogicalResult MaxGradOp::inferReturnTypes(mlir::MLIRContext*, std::optional<mlir::Location> loc, Adaptor a,
                                          llvm::SmallVectorImpl<Type>& out) {
  auto x = ranked(a.getX().getType());
  auto g = ranked(a.getGrad().getType());
  const int64_t axis = static_cast<int64_t>(a.getAxis());
  if (failed(axisIn(loc, axis, x.getRank()))) return failure();
  llvm::SmallVector<int64_t> reduced(x.getShape());
  reduced.erase(reduced.begin() + axis);
  if (g.getShape() != llvm::ArrayRef<int64_t>(reduced)) return fail(loc, "max_grad: gradient " + str(g) + " does not match " + str(x));
  out.push_back(x);
  return success();
}

LogicalResult PadOp::inferReturnTypes(mlir::MLIRContext*, std::optional<mlir::Location> loc, Adaptor a,
                                      llvm::SmallVectorImpl<Type>& out) {
  auto x = ranked(a.getX().getType());
  const int64_t axis = static_cast<int64_t>(a.getAxis());
  if (failed(axisIn(loc, axis, x.getRank()))) return failure();
  const int64_t offset = static_cast<int64_t>(a.getOffset()), size = static_cast<int64_t>(a.getSize());
  if (x.getDimSize(axis) == ShapedType::kDynamic || offset < 0 || offset + x.getDimSize(axis) > size)
    return fail(loc, "pad cannot place " + str(x) + " at offset " + llvm::Twine(offset) + " of " + llvm::Twine(size));
  llvm::SmallVector<int64_t> shape(x.getShape());
  shape[axis] = size;
  return result(out, shape, x.getElementType());
}

LogicalResult UnbroadcastOp::verify() {
  // The result must broadcast back to the operand.
  auto in = ranked(getX().getType());
  auto res = ranked(getResult().getType());
  bool ok = res.getRank() <= in.getRank() && in.getElementType() == res.getElementType();
  for (int64_t i = 0; ok && i < res.getRank(); ++i) {
    const int64_t r = res.getDimSize(res.getRank() - 1 - i), d = in.getDimSize(in.getRank() - 1 - i);
    ok = d == r || r == 1;
  }
  if (!ok) return emitOpError("cannot sum ") << in << " down to " << res;
  return success();
}

mlir::OpFoldResult UnbroadcastOp::fold(FoldAdaptor) {
  if (getX().getType() == getType()) return getX();
  return {};
}

// ---------------------------------------------------------------- ops with explicit result types

namespace {
int64_t staticElements(RankedTensorType t, int& dynamicDims) {
  int64_t n = 1;
  dynamicDims = 0;
  for (int64_t d : t.getShape()) {
    if (d == ShapedType::kDynamic) ++dynamicDims;
    else n *= d;
  }
  return n;
}
}  // namespace

LogicalResult ReshapeOp::verify() {
  auto in = ranked(getX().getType());
  auto res = ranked(getResult().getType());
  int dynIn, dynOut;
  const bool sameCount = staticElements(in, dynIn) == staticElements(res, dynOut) && dynIn == dynOut;
  const bool tLeads = dynIn == 0 || (in.getDimSize(0) == ShapedType::kDynamic && res.getDimSize(0) == ShapedType::kDynamic && dynIn == 1);
  if (!sameCount || !tLeads || in.getElementType() != res.getElementType())
    return emitOpError("cannot reshape ") << in << " to " << res;
  return success();
}

// reshape(x) to x's own type is x; reshape(reshape(y)) is one reshape of y.
mlir::OpFoldResult ReshapeOp::fold(FoldAdaptor) {
  if (getX().getType() == getType()) return getX();
  if (auto inner = getX().getDefiningOp<ReshapeOp>()) {
    getXMutable().assign(inner.getX());
    return getResult();
  }
  return {};
}

LogicalResult ConvertOp::verify() {
  auto in = ranked(getX().getType());
  auto res = ranked(getResult().getType());
  if (in.getShape() != res.getShape()) return emitOpError("cannot convert ") << in << " to " << res << ": the shapes differ";
  return success();
}

// Converting to the same type is the identity; a widening convert is exact, so convert(convert(y))
// after a widening one converts y directly (and is y when that is y's own type).
mlir::OpFoldResult ConvertOp::fold(FoldAdaptor) {
  if (getX().getType() == getType()) return getX();
  if (auto inner = getX().getDefiningOp<ConvertOp>()) {
    auto innerIn = ranked(inner.getX().getType()).getElementType();
    if (innerIn.getIntOrFloatBitWidth() <= ranked(inner.getType()).getElementType().getIntOrFloatBitWidth()) {
      if (inner.getX().getType() == getType()) return inner.getX();
      getXMutable().assign(inner.getX());
      return getResult();
    }
  }
  return {};
}

// Broadcasting to the same type is the identity.
mlir::OpFoldResult BroadcastOp::fold(FoldAdaptor) {
  if (getX().getType() == getType()) return getX();
  return {};
}

LogicalResult BroadcastOp::verify() {
  auto in = ranked(getX().getType());
  auto res = ranked(getResult().getType());
  bool ok = in.getRank() <= res.getRank() && in.getElementType() == res.getElementType();
  for (int64_t i = 0; ok && i < in.getRank(); ++i) {
    const int64_t d = in.getDimSize(in.getRank() - 1 - i), r = res.getDimSize(res.getRank() - 1 - i);
    ok = d == r || d == 1;
  }
  if (!ok) return emitOpError("cannot broadcast ") << in << " to " << res;
  return success();
}

LogicalResult StepOp::verify() {
  if (getLevel().empty()) return emitOpError("level must name the step's recurrence level");
  if (static_cast<int64_t>(getIndex()) < 0) return emitOpError("index must be >= 0");
  mlir::Block& body = getBody().front();
  auto yield = body.empty() ? YieldOp() : mlir::dyn_cast<YieldOp>(body.back());
  if (!yield || yield.getValue().getType() != getResult().getType())
    return emitOpError("must yield a value of its result type ") << getResult().getType();
  return success();
}

}  // namespace hrmc::hrm
