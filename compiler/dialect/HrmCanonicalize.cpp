// Canonicalization patterns of hrm ops (folders live with the verifiers in HrmOpsVerify.cpp).
#include "compiler/dialect/HrmDialect.h"
#include "mlir/IR/PatternMatch.h"

namespace hrmc::hrm {

namespace {

// add(pad(a, at i), pad(b, at i + |a|)) → pad(concat(a, b), at i), and a pad covering its whole axis
// is just its operand: the VJP of a split ([gate | q | k | v]) becomes one concat instead of a zero
// fill and an add per piece.
struct AddOfAdjacentPads : mlir::OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(AddOp op, mlir::PatternRewriter& rw) const override {
    auto lhs = op.getLhs().getDefiningOp<PadOp>();
    auto rhs = op.getRhs().getDefiningOp<PadOp>();
    if (!lhs || !rhs || lhs.getAxis() != rhs.getAxis() || lhs.getSize() != rhs.getSize() ||
        lhs.getType() != op.getType() || rhs.getType() != op.getType())
      return mlir::failure();
    auto width = [](PadOp p) {
      return mlir::cast<mlir::RankedTensorType>(p.getX().getType()).getDimSize(p.getAxis());
    };
    PadOp first = lhs.getOffset() <= rhs.getOffset() ? lhs : rhs;
    PadOp second = first == lhs ? rhs : lhs;
    if (static_cast<int64_t>(first.getOffset()) + width(first) != static_cast<int64_t>(second.getOffset()))
      return mlir::failure();
    mlir::Value joined = rw.create<ConcatOp>(op.getLoc(), mlir::ValueRange{first.getX(), second.getX()}, first.getAxisAttr());
    if (first.getOffset() == 0 && width(first) + width(second) == static_cast<int64_t>(first.getSize())) {
      rw.replaceOp(op, joined);
      return mlir::success();
    }
    rw.replaceOpWithNewOp<PadOp>(op, joined, first.getAxisAttr(), first.getOffsetAttr(), first.getSizeAttr());
    return mlir::success();
  }
};

// concat(a, concat(b, c), d) → concat(a, b, c, d) along the same axis (the inner concat used once).
struct FlattenConcat : mlir::OpRewritePattern<ConcatOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(ConcatOp op, mlir::PatternRewriter& rw) const override {
    llvm::SmallVector<mlir::Value> inputs;
    bool changed = false;
    for (mlir::Value v : op.getInputs()) {
      auto inner = v.getDefiningOp<ConcatOp>();
      if (inner && inner.getAxis() == op.getAxis() && inner->hasOneUse()) {
        inputs.append(inner.getInputs().begin(), inner.getInputs().end());
        changed = true;
      } else {
        inputs.push_back(v);
      }
    }
    if (!changed) return mlir::failure();
    rw.replaceOpWithNewOp<ConcatOp>(op, inputs, op.getAxisAttr());
    return mlir::success();
  }
};

}  // namespace

void ConcatOp::getCanonicalizationPatterns(mlir::RewritePatternSet& patterns, mlir::MLIRContext* ctx) {
  patterns.add<FlattenConcat>(ctx);
}

void AddOp::getCanonicalizationPatterns(mlir::RewritePatternSet& patterns, mlir::MLIRContext* ctx) {
  patterns.add<AddOfAdjacentPads>(ctx);
}

}  // namespace hrmc::hrm
