#include "compiler/kernels/HrmToLinalg.h"

#include <limits>
#include <numeric>

#include "compiler/dialect/HrmDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace hrmc::compiler {

namespace {

using mlir::Value;

// An empty result tensor; its dynamic sizes (T) are read from an operand that has them at the same
// position counted from the right.
// A broadcast over T (the bf16 zL_init start state) has no operand with T: the packed batch's size is
// then read from the function's token input.
Value emptyLike(mlir::OpBuilder& b, mlir::Location loc, mlir::RankedTensorType type, mlir::ValueRange operands,
                mlir::Operation* at) {
  llvm::SmallVector<Value> dynamic;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    if (!type.isDynamicDim(d)) continue;
    Value size;
    for (Value v : operands) {
      auto t = mlir::cast<mlir::RankedTensorType>(v.getType());
      const int64_t od = d - (type.getRank() - t.getRank());
      if (od >= 0 && t.isDynamicDim(od)) {
        size = b.create<mlir::tensor::DimOp>(loc, v, od);
        break;
      }
    }
    if (!size)
      for (mlir::BlockArgument arg : at->getParentOfType<mlir::func::FuncOp>().getArguments())
        if (auto t = mlir::dyn_cast<mlir::ShapedType>(arg.getType()); t && t.getRank() >= 1 && t.isDynamicDim(0)) {
          // Whole-module functions take tensors; outlined kernels take memrefs (T is dimension 0 of each).
          if (mlir::isa<mlir::MemRefType>(t))
            size = b.create<mlir::memref::DimOp>(loc, arg, 0);
          else
            size = b.create<mlir::tensor::DimOp>(loc, arg, 0);
          break;
        }
    dynamic.push_back(size);
  }
  return b.create<mlir::tensor::EmptyOp>(loc, type.getShape(), type.getElementType(), dynamic);
}

// The indexing map of an operand broadcast to the result (trailing dimensions aligned, size-1 dims read
// index 0).
mlir::AffineMap broadcastMap(mlir::MLIRContext* ctx, mlir::RankedTensorType operand, mlir::RankedTensorType result) {
  llvm::SmallVector<mlir::AffineExpr> exprs;
  const int64_t offset = result.getRank() - operand.getRank();
  for (int64_t i = 0; i < operand.getRank(); ++i) {
    const bool broadcast = operand.getDimSize(i) == 1 && result.getDimSize(offset + i) != 1;
    exprs.push_back(broadcast ? mlir::getAffineConstantExpr(0, ctx) : mlir::getAffineDimExpr(offset + i, ctx));
  }
  return mlir::AffineMap::get(result.getRank(), 0, exprs, ctx);
}

// Replaces `op` by a linalg.generic over its result's shape; `body` computes the element from the
// operands' elements (already converted to the result element type).
template <typename Body>
void replaceWithGeneric(mlir::PatternRewriter& rw, mlir::Operation* op, Body body) {
  mlir::Location loc = op->getLoc();
  auto resultType = mlir::cast<mlir::RankedTensorType>(op->getResult(0).getType());
  llvm::SmallVector<mlir::AffineMap> maps;
  for (Value v : op->getOperands())
    maps.push_back(broadcastMap(rw.getContext(), mlir::cast<mlir::RankedTensorType>(v.getType()), resultType));
  maps.push_back(rw.getMultiDimIdentityMap(resultType.getRank()));
  llvm::SmallVector<mlir::utils::IteratorType> iterators(resultType.getRank(), mlir::utils::IteratorType::parallel);
  Value init = emptyLike(rw, loc, resultType, op->getOperands(), op);
  auto generic = rw.create<mlir::linalg::GenericOp>(
      loc, resultType, op->getOperands(), init, maps, iterators,
      [&](mlir::OpBuilder& b, mlir::Location l, mlir::ValueRange args) {
        llvm::SmallVector<Value> ins;
        for (Value a : args.drop_back()) {
          // Mixed precision computes in the result type (bf16 state + f32 → f32).
          if (a.getType() != resultType.getElementType())
            a = b.create<mlir::arith::ExtFOp>(l, resultType.getElementType(), a);
          ins.push_back(a);
        }
        b.create<mlir::linalg::YieldOp>(l, body(b, l, ins));
      });
  rw.replaceOp(op, generic.getResults());
}

template <typename HrmOp, typename Fn>
struct ElementwisePattern : mlir::OpRewritePattern<HrmOp> {
  ElementwisePattern(mlir::MLIRContext* ctx, Fn fn) : mlir::OpRewritePattern<HrmOp>(ctx), fn_(fn) {}
  mlir::LogicalResult matchAndRewrite(HrmOp op, mlir::PatternRewriter& rw) const override {
    replaceWithGeneric(rw, op, fn_);
    return mlir::success();
  }
  Fn fn_;
};

template <typename HrmOp, typename Fn>
void add(mlir::RewritePatternSet& patterns, Fn fn) {
  patterns.add(std::make_unique<ElementwisePattern<HrmOp, Fn>>(patterns.getContext(), fn));
}

Value one(mlir::OpBuilder& b, mlir::Location l, Value like) {
  return b.create<mlir::arith::ConstantOp>(l, b.getFloatAttr(like.getType(), 1.0));
}
Value sigmoid(mlir::OpBuilder& b, mlir::Location l, Value x) {
  Value e = b.create<mlir::math::ExpOp>(l, b.create<mlir::arith::NegFOp>(l, x));
  return b.create<mlir::arith::DivFOp>(l, one(b, l, x), b.create<mlir::arith::AddFOp>(l, one(b, l, x), e));
}

struct ConstantPattern : mlir::OpRewritePattern<hrm::ConstantOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(hrm::ConstantOp op, mlir::PatternRewriter& rw) const override {
    auto type = mlir::cast<mlir::RankedTensorType>(op.getType());
    auto value = mlir::DenseElementsAttr::get(type, rw.getFloatAttr(type.getElementType(), op.getValue().convertToDouble()));
    rw.replaceOpWithNewOp<mlir::arith::ConstantOp>(op, value);
    return mlir::success();
  }
};

struct StopGradientPattern : mlir::OpRewritePattern<hrm::StopGradientOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(hrm::StopGradientOp op, mlir::PatternRewriter& rw) const override {
    rw.replaceOp(op, op.getX());  // the forward value; derivatives were taken before this stage
    return mlir::success();
  }
};

// Sizes of a tensor as OpFoldResults: static ints, tensor.dim for T.
llvm::SmallVector<mlir::OpFoldResult> sizesOf(mlir::OpBuilder& b, mlir::Location loc, Value v) {
  auto t = mlir::cast<mlir::RankedTensorType>(v.getType());
  llvm::SmallVector<mlir::OpFoldResult> sizes;
  for (int64_t d = 0; d < t.getRank(); ++d)
    sizes.push_back(t.isDynamicDim(d) ? mlir::OpFoldResult(b.create<mlir::tensor::DimOp>(loc, v, d).getResult())
                                      : mlir::OpFoldResult(b.getIndexAttr(t.getDimSize(d))));
  return sizes;
}

// Groups consecutive dimensions of `big` whose products are the dimensions of `small` (T, dynamic,
// only ever maps to itself); false when the shapes do not nest.
bool reassociation(llvm::ArrayRef<int64_t> big, llvm::ArrayRef<int64_t> small,
                   llvm::SmallVector<mlir::ReassociationIndices>& groups) {
  size_t i = 0;
  for (int64_t target : small) {
    mlir::ReassociationIndices g;
    if (target == mlir::ShapedType::kDynamic) {
      if (i >= big.size() || big[i] != mlir::ShapedType::kDynamic) return false;
      g.push_back(static_cast<int64_t>(i++));
    } else {
      int64_t product = 1;
      while (i < big.size() && big[i] != mlir::ShapedType::kDynamic && (g.empty() || product < target)) {
        product *= big[i];
        g.push_back(static_cast<int64_t>(i++));
      }
      if (product != target) return false;
    }
    groups.push_back(g);
  }
  // Trailing unit dimensions join the last group.
  while (i < big.size() && big[i] == 1 && !groups.empty()) groups.back().push_back(static_cast<int64_t>(i++));
  return i == big.size();
}

// reshape → tensor.collapse_shape / expand_shape (through the flat [T, n] form when they do not nest).
struct ReshapePattern : mlir::OpRewritePattern<hrm::ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(hrm::ReshapeOp op, mlir::PatternRewriter& rw) const override {
    auto in = mlir::cast<mlir::RankedTensorType>(op.getX().getType());
    auto out = mlir::cast<mlir::RankedTensorType>(op.getType());
    llvm::SmallVector<mlir::ReassociationIndices> groups;
    if (out.getRank() <= in.getRank() && reassociation(in.getShape(), out.getShape(), groups)) {
      rw.replaceOpWithNewOp<mlir::tensor::CollapseShapeOp>(op, out, op.getX(), groups);
      return mlir::success();
    }
    if (out.getRank() > in.getRank() && reassociation(out.getShape(), in.getShape(), groups)) {
      rw.replaceOpWithNewOp<mlir::tensor::ExpandShapeOp>(op, out, op.getX(), groups);
      return mlir::success();
    }
    // [T, a, b] → [T, b, a] and the like: collapse to [T, n], then expand.
    const bool hasT = in.getRank() > 0 && in.isDynamicDim(0);
    llvm::SmallVector<int64_t> flat{hasT ? mlir::ShapedType::kDynamic : in.getNumElements()};
    if (hasT) {
      int64_t n = 1;
      for (int64_t d : in.getShape().drop_front()) n *= d;
      flat.push_back(n);
    }
    auto flatType = mlir::RankedTensorType::get(flat, in.getElementType());
    llvm::SmallVector<mlir::ReassociationIndices> down, up;
    if (!reassociation(in.getShape(), flatType.getShape(), down) || !reassociation(out.getShape(), flatType.getShape(), up))
      return rw.notifyMatchFailure(op, "unsupported reshape");
    Value collapsed = rw.create<mlir::tensor::CollapseShapeOp>(op.getLoc(), flatType, op.getX(), down);
    rw.replaceOpWithNewOp<mlir::tensor::ExpandShapeOp>(op, out, collapsed, up);
    return mlir::success();
  }
};

// slice → tensor.extract_slice
struct SlicePattern : mlir::OpRewritePattern<hrm::SliceOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(hrm::SliceOp op, mlir::PatternRewriter& rw) const override {
    auto t = mlir::cast<mlir::RankedTensorType>(op.getX().getType());
    llvm::SmallVector<mlir::OpFoldResult> offsets(t.getRank(), rw.getIndexAttr(0)), strides(t.getRank(), rw.getIndexAttr(1));
    llvm::SmallVector<mlir::OpFoldResult> sizes = sizesOf(rw, op.getLoc(), op.getX());
    offsets[op.getAxis()] = rw.getIndexAttr(static_cast<int64_t>(op.getOffset()));
    sizes[op.getAxis()] = rw.getIndexAttr(static_cast<int64_t>(op.getSize()));
    rw.replaceOpWithNewOp<mlir::tensor::ExtractSliceOp>(op, mlir::cast<mlir::RankedTensorType>(op.getType()), op.getX(),
                                                        offsets, sizes, strides);
    return mlir::success();
  }
};

// Inserts `parts` along `axis` at `offsets` into `dest`.
Value insertAlong(mlir::OpBuilder& b, mlir::Location loc, Value dest, mlir::ValueRange parts,
                  llvm::ArrayRef<int64_t> offsets, int64_t axis) {
  for (size_t i = 0; i < parts.size(); ++i) {
    const int64_t rank = mlir::cast<mlir::RankedTensorType>(parts[i].getType()).getRank();
    llvm::SmallVector<mlir::OpFoldResult> off(rank, b.getIndexAttr(0)), strides(rank, b.getIndexAttr(1));
    off[axis] = b.getIndexAttr(offsets[i]);
    dest = b.create<mlir::tensor::InsertSliceOp>(loc, parts[i], dest, off, sizesOf(b, loc, parts[i]), strides);
  }
  return dest;
}

// concat → tensor.empty + insert_slice of each input
struct ConcatPattern : mlir::OpRewritePattern<hrm::ConcatOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(hrm::ConcatOp op, mlir::PatternRewriter& rw) const override {
    auto type = mlir::cast<mlir::RankedTensorType>(op.getType());
    const int64_t axis = static_cast<int64_t>(op.getAxis());
    llvm::SmallVector<int64_t> offsets;
    int64_t at = 0;
    for (Value v : op.getInputs()) {
      offsets.push_back(at);
      at += mlir::cast<mlir::RankedTensorType>(v.getType()).getDimSize(axis);
    }
    // The destination goes at the function's start and each piece is inserted right after it is
    // computed: then empty-tensor elimination can compute every piece straight into its slice of the
    // destination (a chain of inserts placed at the concat would not dominate the pieces).
    mlir::Block& entry = op->getParentOfType<mlir::func::FuncOp>().front();
    mlir::OpBuilder::InsertionGuard guard(rw);
    rw.setInsertionPointToStart(&entry);
    Value dest = emptyLike(rw, op.getLoc(), type, {}, op);
    llvm::SmallVector<size_t> order(op.getInputs().size());
    std::iota(order.begin(), order.end(), 0);
    auto position = [&](size_t i) { return op.getInputs()[i].getDefiningOp(); };
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      mlir::Operation *x = position(a), *y = position(b);
      return x && y ? x->isBeforeInBlock(y) : !x && y;
    });
    mlir::Operation* after = dest.getDefiningOp();
    for (size_t i : order) {
      if (mlir::Operation* def = position(i); def && def->getBlock() == &entry && after->isBeforeInBlock(def)) after = def;
      rw.setInsertionPointAfter(after);
      dest = insertAlong(rw, op.getLoc(), dest, op.getInputs()[i], {offsets[i]}, axis);
      after = dest.getDefiningOp();
    }
    rw.replaceOp(op, dest);
    return mlir::success();
  }
};

// pad → zeros (linalg.fill) with the input inserted at its offset
struct PadPattern : mlir::OpRewritePattern<hrm::PadOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(hrm::PadOp op, mlir::PatternRewriter& rw) const override {
    auto type = mlir::cast<mlir::RankedTensorType>(op.getType());
    Value zero = rw.create<mlir::arith::ConstantOp>(op.getLoc(), rw.getFloatAttr(type.getElementType(), 0.0));
    Value dest = rw.create<mlir::linalg::FillOp>(op.getLoc(), zero, emptyLike(rw, op.getLoc(), type, op->getOperands(), op))
                     .getResult(0);
    rw.replaceOp(op, insertAlong(rw, op.getLoc(), dest, op.getX(), {static_cast<int64_t>(op.getOffset())},
                                 static_cast<int64_t>(op.getAxis())));
    return mlir::success();
  }
};

// Reduces `x` over `axis` into a tensor without that axis: init fills the accumulator, combine folds
// one element in.
template <typename Combine>
Value reduce(mlir::OpBuilder& b, mlir::Location loc, Value x, int64_t axis, double init, mlir::Operation* at,
             Combine combine) {
  auto in = mlir::cast<mlir::RankedTensorType>(x.getType());
  llvm::SmallVector<int64_t> shape(in.getShape());
  shape.erase(shape.begin() + axis);
  auto outType = mlir::RankedTensorType::get(shape, in.getElementType());
  Value initValue = b.create<mlir::arith::ConstantOp>(loc, b.getFloatAttr(in.getElementType(), init));
  Value acc = b.create<mlir::linalg::FillOp>(loc, initValue, emptyLike(b, loc, outType, x, at)).getResult(0);
  llvm::SmallVector<mlir::AffineExpr> kept;
  for (int64_t d = 0; d < in.getRank(); ++d)
    if (d != axis) kept.push_back(b.getAffineDimExpr(d));
  llvm::SmallVector<mlir::AffineMap> maps{b.getMultiDimIdentityMap(in.getRank()),
                                          mlir::AffineMap::get(in.getRank(), 0, kept, b.getContext())};
  llvm::SmallVector<mlir::utils::IteratorType> iterators(in.getRank(), mlir::utils::IteratorType::parallel);
  iterators[axis] = mlir::utils::IteratorType::reduction;
  return b.create<mlir::linalg::GenericOp>(loc, outType, x, acc, maps, iterators,
                                           [&](mlir::OpBuilder& nb, mlir::Location l, mlir::ValueRange a) {
                                             nb.create<mlir::linalg::YieldOp>(l, combine(nb, l, a[0], a[1]));
                                           })
      .getResult(0);
}

// `reduced` (x without `axis`) with a unit dimension put back at `axis`, to broadcast against x.
Value keepDim(mlir::OpBuilder& b, mlir::Location loc, Value reduced, int64_t axis) {
  auto t = mlir::cast<mlir::RankedTensorType>(reduced.getType());
  llvm::SmallVector<int64_t> shape(t.getShape());
  shape.insert(shape.begin() + axis, 1);
  llvm::SmallVector<mlir::ReassociationIndices> groups;
  for (int64_t d = 0; d < t.getRank(); ++d) groups.push_back({d + (d >= axis ? 1 : 0)});
  if (groups.empty()) groups.push_back({});
  if (axis == t.getRank()) groups.back().push_back(axis);
  else groups[axis].insert(groups[axis].begin(), axis);
  return b.create<mlir::tensor::ExpandShapeOp>(loc, mlir::RankedTensorType::get(shape, t.getElementType()), reduced, groups);
}

// An element-wise linalg.generic over `like`'s shape combining `operands` (broadcast as needed).
template <typename Body>
Value elementwise(mlir::OpBuilder& b, mlir::Location loc, mlir::RankedTensorType like, mlir::ValueRange operands,
                  mlir::Operation* at, Body body) {
  llvm::SmallVector<mlir::AffineMap> maps;
  for (Value v : operands) maps.push_back(broadcastMap(b.getContext(), mlir::cast<mlir::RankedTensorType>(v.getType()), like));
  maps.push_back(b.getMultiDimIdentityMap(like.getRank()));
  llvm::SmallVector<mlir::utils::IteratorType> iterators(like.getRank(), mlir::utils::IteratorType::parallel);
  return b.create<mlir::linalg::GenericOp>(loc, like, operands, emptyLike(b, loc, like, operands, at), maps, iterators,
                                           [&](mlir::OpBuilder& nb, mlir::Location l, mlir::ValueRange a) {
                                             nb.create<mlir::linalg::YieldOp>(l, body(nb, l, a.drop_back()));
                                           })
      .getResult(0);
}

// Reduction combiners may be reassociated: LLVM then vectorises the reduction loops (the order of an
// fp32 sum is not part of any op's meaning; the reference executor sums in yet another order).
mlir::arith::FastMathFlagsAttr reassoc(mlir::OpBuilder& b) {
  return mlir::arith::FastMathFlagsAttr::get(b.getContext(), mlir::arith::FastMathFlags::reassoc);
}
Value addf(mlir::OpBuilder& b, mlir::Location l, Value x, Value y) { return b.create<mlir::arith::AddFOp>(l, x, y, reassoc(b)); }
Value maxf(mlir::OpBuilder& b, mlir::Location l, Value x, Value y) { return b.create<mlir::arith::MaximumFOp>(l, x, y, reassoc(b)); }

template <typename HrmOp>
struct ReductionPattern : mlir::OpRewritePattern<HrmOp> {
  using mlir::OpRewritePattern<HrmOp>::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(HrmOp op, mlir::PatternRewriter& rw) const override {
    const int64_t axis = static_cast<int64_t>(op.getAxis());
    mlir::Location loc = op.getLoc();
    const bool isMax = std::is_same_v<HrmOp, hrm::MaxOp>;
    Value r = reduce(rw, loc, op.getX(), axis, isMax ? -std::numeric_limits<double>::infinity() : 0.0, op,
                     isMax ? maxf : addf);
    if constexpr (std::is_same_v<HrmOp, hrm::MeanOp>) {
      const double n = static_cast<double>(mlir::cast<mlir::RankedTensorType>(op.getX().getType()).getDimSize(axis));
      r = elementwise(rw, loc, mlir::cast<mlir::RankedTensorType>(r.getType()), r, op,
                      [n](mlir::OpBuilder& b, mlir::Location l, mlir::ValueRange a) -> Value {
                        return b.create<mlir::arith::DivFOp>(l, a[0], b.create<mlir::arith::ConstantOp>(l, b.getFloatAttr(a[0].getType(), n)));
                      });
    }
    rw.replaceOp(op, r);
    return mlir::success();
  }
};

// softmax: exp(x − max) / Σ exp(x − max) along the axis.
struct SoftmaxPattern : mlir::OpRewritePattern<hrm::SoftmaxOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(hrm::SoftmaxOp op, mlir::PatternRewriter& rw) const override {
    const int64_t axis = static_cast<int64_t>(op.getAxis());
    mlir::Location loc = op.getLoc();
    auto type = mlir::cast<mlir::RankedTensorType>(op.getType());
    Value m = keepDim(rw, loc, reduce(rw, loc, op.getX(), axis, -std::numeric_limits<double>::infinity(), op, maxf), axis);
    Value e = elementwise(rw, loc, type, mlir::ValueRange{op.getX(), m}, op,
                          [](mlir::OpBuilder& b, mlir::Location l, mlir::ValueRange a) -> Value {
                            return b.create<mlir::math::ExpOp>(l, b.create<mlir::arith::SubFOp>(l, a[0], a[1]));
                          });
    Value s = keepDim(rw, loc, reduce(rw, loc, e, axis, 0.0, op, addf), axis);
    rw.replaceOp(op, elementwise(rw, loc, type, mlir::ValueRange{e, s}, op,
                                 [](mlir::OpBuilder& b, mlir::Location l, mlir::ValueRange a) -> Value {
                                   return b.create<mlir::arith::DivFOp>(l, a[0], a[1]);
                                 }));
    return mlir::success();
  }
};

// rms_norm: x · rsqrt(Σ x² / d + eps) over the last axis (HRM-TEXT.md §1.3).
struct RmsNormPattern : mlir::OpRewritePattern<hrm::RmsNormOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(hrm::RmsNormOp op, mlir::PatternRewriter& rw) const override {
    mlir::Location loc = op.getLoc();
    auto type = mlir::cast<mlir::RankedTensorType>(op.getType());
    const int64_t axis = type.getRank() - 1;
    const double d = static_cast<double>(type.getDimSize(axis)), eps = op.getEps().convertToDouble();
    Value ss = reduce(rw, loc, op.getX(), axis, 0.0, op, [](mlir::OpBuilder& b, mlir::Location l, Value x, Value acc) -> Value {
      return addf(b, l, b.create<mlir::arith::MulFOp>(l, x, x), acc);
    });
    Value inv = keepDim(rw, loc, elementwise(rw, loc, mlir::cast<mlir::RankedTensorType>(ss.getType()), ss, op,
                                             [d, eps](mlir::OpBuilder& b, mlir::Location l, mlir::ValueRange a) -> Value {
                                               auto c = [&](double v) {
                                                 return b.create<mlir::arith::ConstantOp>(l, b.getFloatAttr(a[0].getType(), v));
                                               };
                                               Value mean = b.create<mlir::arith::DivFOp>(l, a[0], c(d));
                                               return b.create<mlir::math::RsqrtOp>(l, b.create<mlir::arith::AddFOp>(l, mean, c(eps)));
                                             }),
                        axis);
    rw.replaceOp(op, elementwise(rw, loc, type, mlir::ValueRange{op.getX(), inv}, op,
                                 [](mlir::OpBuilder& b, mlir::Location l, mlir::ValueRange a) -> Value {
                                   return b.create<mlir::arith::MulFOp>(l, a[0], a[1]);
                                 }));
    return mlir::success();
  }
};

// The precision rule every executor follows (runtime/reference/ReferenceExecutor.cpp): an op with a
// bf16 result computes in f32 from its operands' values and rounds once when it stores the result, so
// RMSNorm statistics, softmax sums, sigmoid and the like never round inside (HRM-TEXT.md §1.12). Before
// the lowering patterns see the op, its bf16 operands are widened (exactly) and it is re-created with
// an f32 result that is then truncated (round to nearest even). Data movement (reshape, slice,
// broadcast, ...) and max move bf16 values unchanged and keep bf16.
template <typename HrmOp>
struct ComputeInF32 : mlir::OpRewritePattern<HrmOp> {
  ComputeInF32(mlir::MLIRContext* ctx) : mlir::OpRewritePattern<HrmOp>(ctx, /*benefit=*/2) {}
  mlir::LogicalResult matchAndRewrite(HrmOp op, mlir::PatternRewriter& rw) const override {
    auto type = mlir::cast<mlir::RankedTensorType>(op->getResult(0).getType());
    if (!type.getElementType().isBF16()) return mlir::failure();
    mlir::Location loc = op.getLoc();
    auto f32 = [&](mlir::RankedTensorType t) { return mlir::RankedTensorType::get(t.getShape(), rw.getF32Type()); };
    llvm::SmallVector<Value> operands;
    for (Value v : op->getOperands()) {
      auto t = mlir::cast<mlir::RankedTensorType>(v.getType());
      operands.push_back(!t.getElementType().isBF16()
                             ? v
                             : elementwise(rw, loc, f32(t), v, op, [&](mlir::OpBuilder& b, mlir::Location l, mlir::ValueRange a) -> Value {
                                 return b.create<mlir::arith::ExtFOp>(l, b.getF32Type(), a[0]);
                               }));
    }
    mlir::Operation* wide = rw.clone(*op);
    wide->setOperands(operands);
    wide->getResult(0).setType(f32(type));
    rw.replaceOp(op, elementwise(rw, loc, type, wide->getResult(0), op, [&](mlir::OpBuilder& b, mlir::Location l, mlir::ValueRange a) -> Value {
      return b.create<mlir::arith::TruncFOp>(l, b.getBF16Type(), a[0]);
    }));
    return mlir::success();
  }
};

// convert: widening is exact (extf), narrowing rounds to nearest even (truncf).
struct ConvertPattern : mlir::OpRewritePattern<hrm::ConvertOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(hrm::ConvertOp op, mlir::PatternRewriter& rw) const override {
    auto type = mlir::cast<mlir::RankedTensorType>(op.getType());
    mlir::Type to = type.getElementType();
    const bool widen = to.getIntOrFloatBitWidth() > op.getX().getType().getElementTypeBitWidth();
    rw.replaceOp(op, elementwise(rw, op.getLoc(), type, op.getX(), op, [&](mlir::OpBuilder& b, mlir::Location l, mlir::ValueRange a) -> Value {
      return widen ? b.create<mlir::arith::ExtFOp>(l, to, a[0]).getResult() : b.create<mlir::arith::TruncFOp>(l, to, a[0]).getResult();
    }));
    return mlir::success();
  }
};

// embedding: a gather, out[t, j] = table[tokens[t], j]
struct EmbeddingPattern : mlir::OpRewritePattern<hrm::EmbeddingOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(hrm::EmbeddingOp op, mlir::PatternRewriter& rw) const override {
    auto type = mlir::cast<mlir::RankedTensorType>(op.getType());
    const int64_t rank = type.getRank();
    llvm::SmallVector<mlir::AffineExpr> tokenDims;
    for (int64_t d = 0; d + 1 < rank; ++d) tokenDims.push_back(rw.getAffineDimExpr(d));
    llvm::SmallVector<mlir::AffineMap> maps{mlir::AffineMap::get(rank, 0, tokenDims, rw.getContext()),
                                            rw.getMultiDimIdentityMap(rank)};
    llvm::SmallVector<mlir::utils::IteratorType> iterators(rank, mlir::utils::IteratorType::parallel);
    Value table = op.getTable();
    auto generic = rw.create<mlir::linalg::GenericOp>(
        op.getLoc(), type, op.getTokens(), emptyLike(rw, op.getLoc(), type, op.getTokens(), op), maps, iterators,
        [&](mlir::OpBuilder& b, mlir::Location l, mlir::ValueRange a) {
          Value row = b.create<mlir::arith::IndexCastOp>(l, b.getIndexType(), a[0]);
          Value col = b.create<mlir::linalg::IndexOp>(l, rank - 1);
          b.create<mlir::linalg::YieldOp>(l, b.create<mlir::tensor::ExtractOp>(l, table, mlir::ValueRange{row, col}).getResult());
        });
    rw.replaceOp(op, generic.getResults());
    return mlir::success();
  }
};

struct HrmToLinalgPass : mlir::PassWrapper<HrmToLinalgPass, mlir::OperationPass<mlir::ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(HrmToLinalgPass)
  llvm::StringRef getArgument() const override { return "hrm-to-linalg"; }
  llvm::StringRef getDescription() const override { return "element-wise hrm ops to linalg.generic"; }
  void getDependentDialects(mlir::DialectRegistry& r) const override {
    r.insert<mlir::arith::ArithDialect, mlir::linalg::LinalgDialect, mlir::memref::MemRefDialect, mlir::math::MathDialect, mlir::tensor::TensorDialect>();
  }
  void runOnOperation() override {
    using B = mlir::OpBuilder;
    using L = mlir::Location;
    using V = llvm::ArrayRef<Value>;
    mlir::RewritePatternSet p(&getContext());
    add<hrm::AddOp>(p, [](B& b, L l, V a) -> Value { return b.create<mlir::arith::AddFOp>(l, a[0], a[1]); });
    add<hrm::SubOp>(p, [](B& b, L l, V a) -> Value { return b.create<mlir::arith::SubFOp>(l, a[0], a[1]); });
    add<hrm::MulOp>(p, [](B& b, L l, V a) -> Value { return b.create<mlir::arith::MulFOp>(l, a[0], a[1]); });
    add<hrm::DivOp>(p, [](B& b, L l, V a) -> Value { return b.create<mlir::arith::DivFOp>(l, a[0], a[1]); });
    add<hrm::NegOp>(p, [](B& b, L l, V a) -> Value { return b.create<mlir::arith::NegFOp>(l, a[0]); });
    add<hrm::ExpOp>(p, [](B& b, L l, V a) -> Value { return b.create<mlir::math::ExpOp>(l, a[0]); });
    add<hrm::TanhOp>(p, [](B& b, L l, V a) -> Value { return b.create<mlir::math::TanhOp>(l, a[0]); });
    add<hrm::SqrtOp>(p, [](B& b, L l, V a) -> Value { return b.create<mlir::math::SqrtOp>(l, a[0]); });
    add<hrm::SigmoidOp>(p, [](B& b, L l, V a) -> Value { return sigmoid(b, l, a[0]); });
    add<hrm::SiluOp>(p, [](B& b, L l, V a) -> Value { return b.create<mlir::arith::MulFOp>(l, a[0], sigmoid(b, l, a[0])); });
    add<hrm::BroadcastOp>(p, [](B& b, L l, V a) -> Value { return a[0]; });
    p.add<ConstantPattern, StopGradientPattern, ReshapePattern, SlicePattern, ConcatPattern, PadPattern,
          ReductionPattern<hrm::SumOp>, ReductionPattern<hrm::MeanOp>, ReductionPattern<hrm::MaxOp>, SoftmaxPattern,
          RmsNormPattern, EmbeddingPattern, ConvertPattern>(&getContext());
    p.add<ComputeInF32<hrm::AddOp>, ComputeInF32<hrm::SubOp>, ComputeInF32<hrm::MulOp>, ComputeInF32<hrm::DivOp>,
          ComputeInF32<hrm::NegOp>, ComputeInF32<hrm::ExpOp>, ComputeInF32<hrm::TanhOp>, ComputeInF32<hrm::SqrtOp>,
          ComputeInF32<hrm::SigmoidOp>, ComputeInF32<hrm::SiluOp>, ComputeInF32<hrm::SumOp>, ComputeInF32<hrm::MeanOp>,
          ComputeInF32<hrm::SoftmaxOp>, ComputeInF32<hrm::RmsNormOp>>(&getContext());
    // Every pattern removes an hrm op, so the rewrite terminates; no fixed-point iteration cap is needed.
    mlir::GreedyRewriteConfig config;
    config.maxIterations = mlir::GreedyRewriteConfig::kNoLimit;
    if (mlir::failed(mlir::applyPatternsAndFoldGreedily(getOperation(), std::move(p), config))) {
      getOperation().emitError("element-wise lowering did not converge");
      signalPassFailure();
    }
  }
};

}  // namespace

std::unique_ptr<mlir::Pass> createHrmToLinalgPass() { return std::make_unique<HrmToLinalgPass>(); }

}  // namespace hrmc::compiler
