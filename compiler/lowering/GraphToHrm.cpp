// Lowering of the elaborated ModelGraph into the `hrm` dialect: one op per node, in node order, with
// the node's source location. Nodes of one recurrent step go into that step's `hrm.step` region.
#include "compiler/lowering/GraphToHrm.h"

#include "dsl/sema/CreditSplit.h"

#include <map>

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Verifier.h"

namespace hrmc::compiler {

namespace {

using dsl::Node;
using dsl::OpKind;

class Lowering {
 public:
  Lowering(const dsl::ModelGraph& g, const dsl::SourceManager& sm, mlir::ModuleOp module)
      : g_(g), sm_(sm), module_(module), b_(module.getContext()) {}

  bool run(std::string& error) {
    // Every node id inside a step, to catch values that would escape their step's region.
    owner_.assign(g_.nodes.size(), -1);
    for (size_t i = 0; i < g_.nodes.size(); ++i) owner_[i] = g_.nodes[i].step;

    const std::vector<std::string>& order = g_.splitOrder();
    if (!g_.steps.empty() && order != dsl::defaultCreditSplit(g_.stepLevels())) {
      llvm::SmallVector<mlir::Attribute> names;
      for (const std::string& level : order) names.push_back(b_.getStringAttr(level));
      module_->setAttr(kCreditSplitAttr, b_.getArrayAttr(names));
    }
    const bool hasTokens = g_.inputs.size() == 1 && g_.nodes[g_.inputs[0]].type.dtype == dsl::DType::I32;
    if (!emitFunction(kForwardFn, false, error)) return false;
    if (hasTokens && !emitFunction(kLossFn, true, error)) return false;
    return true;
  }

 private:
  mlir::Location loc(const dsl::Loc& l) {
    if (!l.valid()) return b_.getUnknownLoc();
    return mlir::FileLineColLoc::get(b_.getStringAttr(sm_.path(l.file)), l.line, l.col);
  }

  mlir::Type elem(dsl::DType t) {
    switch (t) {
      case dsl::DType::F32: return b_.getF32Type();
      case dsl::DType::BF16: return b_.getBF16Type();
      case dsl::DType::I32: return b_.getI32Type();
    }
    return b_.getF32Type();
  }

  mlir::RankedTensorType type(const dsl::TensorType& t) {
    llvm::SmallVector<int64_t> shape;
    for (int64_t d : t.dims) shape.push_back(d == dsl::kDimT ? mlir::ShapedType::kDynamic : d);
    return mlir::RankedTensorType::get(shape, elem(t.dtype));
  }

  bool emitFunction(const char* name, bool withLoss, std::string& error) {
    // Signature: the model's inputs, [labels], the packed sequence, then every weight and buffer.
    llvm::SmallVector<mlir::Type> args;
    for (int in : g_.inputs) args.push_back(type(g_.nodes[in].type));
    const unsigned labelsArg = args.size();
    if (withLoss) args.push_back(mlir::RankedTensorType::get({mlir::ShapedType::kDynamic}, b_.getI32Type()));
    const unsigned seqArg = args.size();
    args.push_back(hrm::PackedSeqType::get(b_.getContext()));
    const unsigned firstWeight = args.size();
    for (const dsl::Weight& w : g_.weights) args.push_back(type(w.type));

    llvm::SmallVector<mlir::Type> results;
    mlir::Type logitsType = type(g_.nodes[g_.output].type);
    if (withLoss) results.assign(3, mlir::RankedTensorType::get({}, b_.getF32Type()));
    else results.push_back(logitsType);

    b_.setInsertionPointToEnd(module_.getBody());
    auto fn = b_.create<mlir::func::FuncOp>(loc(g_.loc), name, b_.getFunctionType(args, results));
    for (size_t i = 0; i < g_.inputs.size(); ++i)
      fn.setArgAttr(i, kArgNameAttr, b_.getStringAttr(g_.nodes[g_.inputs[i]].name));
    if (withLoss) fn.setArgAttr(labelsArg, kArgNameAttr, b_.getStringAttr("labels"));
    fn.setArgAttr(seqArg, kArgNameAttr, b_.getStringAttr("seq"));
    for (size_t i = 0; i < g_.weights.size(); ++i) {
      fn.setArgAttr(firstWeight + i, kArgNameAttr, b_.getStringAttr(g_.weights[i].name));
      if (!g_.weights[i].trainable) fn.setArgAttr(firstWeight + i, kBufferAttr, b_.getUnitAttr());
      if (withLoss) continue;  // the initializer is recorded once, on forward
      const dsl::InitKind init = g_.weights[i].init;
      fn.setArgAttr(firstWeight + i, kInitAttr,
                    b_.getStringAttr(init == dsl::InitKind::Zeros ? "zeros" : init == dsl::InitKind::Ones ? "ones" : "trunc_normal"));
      if (init == dsl::InitKind::TruncNormal) fn.setArgAttr(firstWeight + i, kInitStdAttr, b_.getF64FloatAttr(g_.weights[i].stddev));
    }
    mlir::Block* entry = fn.addEntryBlock();
    b_.setInsertionPointToStart(entry);

    values_.assign(g_.nodes.size(), mlir::Value());
    for (size_t i = 0; i < g_.inputs.size(); ++i) values_[g_.inputs[i]] = entry->getArgument(i);
    for (size_t i = 0; i < g_.weights.size(); ++i) values_[g_.weights[i].node] = entry->getArgument(firstWeight + i);
    seq_ = entry->getArgument(seqArg);

    int openStep = -1;
    hrm::StepOp stepOp;
    mlir::OpBuilder::InsertPoint outside;
    auto closeStep = [&]() {
      const dsl::Step& st = g_.steps[openStep];
      mlir::Value yielded = values_[st.result];
      b_.create<hrm::YieldOp>(loc(st.loc), yielded);
      b_.restoreInsertionPoint(outside);
      if (owner_[st.result] == openStep) values_[st.result] = stepOp.getResult();
      openStep = -1;
    };
    for (size_t i = 0; i < g_.nodes.size(); ++i) {
      const Node& n = g_.nodes[i];
      if (n.op == OpKind::Input || n.op == OpKind::Weight) continue;
      if (n.step != openStep) {
        if (openStep >= 0) closeStep();
        if (n.step >= 0) {
          const dsl::Step& st = g_.steps[n.step];
          llvm::SmallVector<int64_t> iters;
          for (const dsl::LoopPosition& p : st.loops) iters.push_back(p.iter);
          stepOp = b_.create<hrm::StepOp>(loc(st.loc), type(g_.nodes[st.result].type), b_.getStringAttr(st.level),
                                          b_.getI64IntegerAttr(st.levelIndex), b_.getDenseI64ArrayAttr(iters),
                                          b_.getStringAttr(st.state), b_.getStringAttr(st.callee));
          outside = b_.saveInsertionPoint();
          b_.setInsertionPointToStart(&stepOp.getBody().emplaceBlock());
          openStep = n.step;
        }
      }
      for (int in : n.inputs)
        if (owner_[in] >= 0 && owner_[in] != n.step && g_.steps[owner_[in]].result != in) {
          error = "internal error: a value computed in step " + std::to_string(owner_[in]) + " escapes it";
          return false;
        }
      values_[i] = emit(n);
      if (!values_[i]) {
        error = std::string("internal error: cannot lower node '") + dsl::spell(n.op) + "'";
        return false;
      }
      // Sema's type of every op is the one the dialect infers (one promotion rule, dsl::promote).
      if (values_[i].getType() != type(n.type)) {
        std::string got;
        llvm::raw_string_ostream os(got);
        values_[i].getType().print(os);
        error = std::string("internal error: sema types '") + dsl::spell(n.op) + "' at line " + std::to_string(n.loc.line) +
                " as " + n.type.str() + ", the hrm dialect infers " + got;
        return false;
      }
    }
    if (openStep >= 0) closeStep();

    mlir::Value logits = values_[g_.output];
    mlir::Location at = loc(g_.loc);
    if (!withLoss) {
      b_.create<mlir::func::ReturnOp>(at, logits);
      return true;
    }
    // The loss and metrics of HRM-TEXT.md §3.7: mean CE over valid labels, token and exact accuracy.
    mlir::Value labels = entry->getArgument(labelsArg);
    mlir::Value ce = b_.create<hrm::CrossEntropyOp>(at, logits, labels);
    mlir::Value loss = b_.create<hrm::LabelMeanOp>(at, ce, labels);
    mlir::Value match = b_.create<hrm::ArgmaxMatchOp>(at, logits, labels);
    mlir::Value accuracy = b_.create<hrm::LabelMeanOp>(at, match, labels);
    mlir::Value exact = b_.create<hrm::ExactMatchOp>(at, match, labels, seq_);
    b_.create<mlir::func::ReturnOp>(at, mlir::ValueRange{loss, accuracy, exact});
    return true;
  }

  mlir::Value in(const Node& n, size_t i) { return values_[n.inputs[i]]; }

  mlir::Value emit(const Node& n) {
    mlir::Location l = loc(n.loc);
    auto f64 = [&](double v) { return b_.getF64FloatAttr(v); };
    auto i64 = [&](int64_t v) { return b_.getI64IntegerAttr(v); };
    switch (n.op) {
      case OpKind::Input:
      case OpKind::Weight: return {};
      case OpKind::Constant: return b_.create<hrm::ConstantOp>(l, f64(n.scalar));
      case OpKind::Embedding: return b_.create<hrm::EmbeddingOp>(l, in(n, 0), in(n, 1));
      case OpKind::Linear: return b_.create<hrm::LinearOp>(l, in(n, 0), in(n, 1));
      case OpKind::MatMul: return b_.create<hrm::MatMulOp>(l, in(n, 0), in(n, 1));
      case OpKind::Add: return b_.create<hrm::AddOp>(l, in(n, 0), in(n, 1));
      case OpKind::Sub: return b_.create<hrm::SubOp>(l, in(n, 0), in(n, 1));
      case OpKind::Mul: return b_.create<hrm::MulOp>(l, in(n, 0), in(n, 1));
      case OpKind::Div: return b_.create<hrm::DivOp>(l, in(n, 0), in(n, 1));
      case OpKind::Neg: return b_.create<hrm::NegOp>(l, in(n, 0));
      case OpKind::Sigmoid: return b_.create<hrm::SigmoidOp>(l, in(n, 0));
      case OpKind::Silu: return b_.create<hrm::SiluOp>(l, in(n, 0));
      case OpKind::Exp: return b_.create<hrm::ExpOp>(l, in(n, 0));
      case OpKind::Tanh: return b_.create<hrm::TanhOp>(l, in(n, 0));
      case OpKind::Sqrt: return b_.create<hrm::SqrtOp>(l, in(n, 0));
      case OpKind::StopGradient: return b_.create<hrm::StopGradientOp>(l, in(n, 0));
      case OpKind::Convert: return b_.create<hrm::ConvertOp>(l, type(n.type), in(n, 0));
      case OpKind::RmsNorm: {
        return b_.create<hrm::RmsNormOp>(l, in(n, 0), f64(n.scalar), n.magicnorm ? b_.getUnitAttr() : mlir::UnitAttr());
      }
      case OpKind::Rope: return b_.create<hrm::RopeOp>(l, in(n, 0), seq_, f64(n.scalar), mlir::UnitAttr());
      case OpKind::Attention:
        return b_.create<hrm::AttentionOp>(l, in(n, 0), in(n, 1), in(n, 2), seq_, b_.getStringAttr(dsl::spell(n.mask)));
      case OpKind::Softmax: return b_.create<hrm::SoftmaxOp>(l, in(n, 0), i64(n.axis));
      case OpKind::Sum: return b_.create<hrm::SumOp>(l, in(n, 0), i64(n.axis));
      case OpKind::Mean: return b_.create<hrm::MeanOp>(l, in(n, 0), i64(n.axis));
      case OpKind::Max: return b_.create<hrm::MaxOp>(l, in(n, 0), i64(n.axis));
      case OpKind::Reshape: return b_.create<hrm::ReshapeOp>(l, type(n.type), in(n, 0));
      case OpKind::Broadcast: return b_.create<hrm::BroadcastOp>(l, type(n.type), in(n, 0));
      case OpKind::Slice:
        return b_.create<hrm::SliceOp>(l, in(n, 0), i64(n.axis), i64(n.offset), i64(n.type.dims[n.axis]));
      case OpKind::Concat: {
        llvm::SmallVector<mlir::Value> ins;
        for (size_t i = 0; i < n.inputs.size(); ++i) ins.push_back(in(n, i));
        return b_.create<hrm::ConcatOp>(l, ins, i64(n.axis));
      }
      case OpKind::CrossEntropy: return b_.create<hrm::CrossEntropyOp>(l, in(n, 0), in(n, 1));
    }
    return {};
  }

  const dsl::ModelGraph& g_;
  const dsl::SourceManager& sm_;
  mlir::ModuleOp module_;
  mlir::OpBuilder b_;
  std::vector<mlir::Value> values_;
  std::vector<int> owner_;
  mlir::Value seq_;
};

}  // namespace

bool lowerGraph(const dsl::ModelGraph& graph, const dsl::SourceManager& sources, mlir::ModuleOp module,
                std::string& error) {
  if (graph.output < 0) {
    error = "the model has no output";
    return false;
  }
  return Lowering(graph, sources, module).run(error);
}

}  // namespace hrmc::compiler
