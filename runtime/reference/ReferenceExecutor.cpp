#include "runtime/reference/ReferenceExecutor.h"

#include "runtime/exec/WeightCheck.h"

#include <cmath>
#include <unordered_map>

#include "compiler/HrmModule.h"
#include "compiler/dialect/HrmDialect.h"
#include "compiler/lowering/GraphToHrm.h"
#include "llvm/ADT/TypeSwitch.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "runtime/reference/ReferenceKernels.h"

namespace hrmc::runtime {

namespace {

template <typename Real>
struct Slot {
  HostTensor<Real> real;
  HostTensor<int32_t> ints;
  bool isInt = false;
};

// The precision rule every executor follows: a value of bf16 type holds bf16 values. An op computes
// from its operands' values at full precision and rounds its bf16 results once (ties to even); a bf16
// argument is rounded where it is bound.
bool isBf16(mlir::Type t) {
  auto ranked = mlir::dyn_cast<mlir::RankedTensorType>(t);
  return ranked && ranked.getElementType().isBF16();
}
template <typename Real>
void roundToBf16InPlace(HostTensor<Real>& t) {
  for (Real& x : t.data) x = Real(roundToBf16(float(x)));
}

template <typename Real>
class Interpreter {
 public:
  Interpreter(const PackedBatch& batch, typename ReferenceExecutor<Real>::Outputs& out,
              const typename ReferenceExecutor<Real>::FrozenSteps* frozen)
      : batch_(batch), out_(out), frozen_(frozen) {}

  void bind(mlir::Value v, Slot<Real> s) { slots_[v] = std::move(s); }

  void runBlock(mlir::Block& block) {
    for (mlir::Operation& op : block) {
      if (auto ret = mlir::dyn_cast<mlir::func::ReturnOp>(op)) {
        for (mlir::Value v : ret.getOperands()) out_.results.push_back(real(v));
        return;
      }
      if (auto yield = mlir::dyn_cast<hrm::YieldOp>(op)) {
        yielded_ = yield.getValue();
        return;
      }
      exec(op);
      roundBf16Results(op);
    }
  }

  void roundBf16Results(mlir::Operation& op) {
    for (mlir::Value r : op.getResults())
      if (isBf16(r.getType())) roundToBf16InPlace(slots_[r].real);
  }

 private:
  const HostTensor<Real>& real(mlir::Value v) { return slots_[v].real; }
  const HostTensor<int32_t>& ints(mlir::Value v) { return slots_[v].ints; }

  // The op's static result shape with T, the only dynamic dimension, replaced by the batch's size.
  std::vector<int64_t> shapeOf(mlir::Type t) {
    std::vector<int64_t> s;
    for (int64_t d : mlir::cast<mlir::RankedTensorType>(t).getShape())
      s.push_back(d == mlir::ShapedType::kDynamic ? batch_.seq.tokens() : d);
    return s;
  }
  HostTensor<Real>& result(mlir::Operation& op) {
    Slot<Real>& s = slots_[op.getResult(0)];
    s.real = HostTensor<Real>(shapeOf(op.getResult(0).getType()));
    return s.real;
  }

  // For every element of a tensor of shape `to`, the index of the element of `from` that broadcasts to
  // it (numpy rules: trailing dimensions aligned, size-1 dimensions repeat).
  static std::vector<int64_t> broadcastIndex(const std::vector<int64_t>& from, const std::vector<int64_t>& to) {
    const int64_t rank = static_cast<int64_t>(to.size());
    std::vector<int64_t> stride(rank, 0), idx(rank, 0);
    int64_t s = 1;
    for (int64_t i = static_cast<int64_t>(from.size()) - 1, o = rank - 1; i >= 0; --i, --o) {
      stride[o] = from[i] == 1 ? 0 : s;
      s *= from[i];
    }
    std::vector<int64_t> map(static_cast<size_t>(HostTensor<Real>::numelOf(to)));
    for (int64_t& m : map) {
      m = 0;
      for (int64_t d = 0; d < rank; ++d) m += idx[d] * stride[d];
      for (int64_t d = rank - 1; d >= 0 && ++idx[d] == to[d]; --d) idx[d] = 0;
    }
    return map;
  }

  template <typename F>
  void unary(mlir::Operation& op, F f) {
    const HostTensor<Real>& x = real(op.getOperand(0));
    HostTensor<Real>& y = result(op);
    for (int64_t i = 0; i < x.numel(); ++i) y.data[i] = f(x.data[i]);
  }

  // out[i] = a[ia] ⊕ b[ib] with numpy broadcasting (trailing dimensions aligned).
  template <typename F>
  void binary(mlir::Operation& op, F f) {
    const HostTensor<Real>& a = real(op.getOperand(0));
    const HostTensor<Real>& b = real(op.getOperand(1));
    HostTensor<Real>& y = result(op);
    // Common cases first: equal shapes, a scalar on either side, a row vector broadcast over rows.
    if (a.shape == b.shape) {
      for (int64_t i = 0; i < y.numel(); ++i) y.data[i] = f(a.data[i], b.data[i]);
      return;
    }
    if (b.numel() == 1 && a.numel() == y.numel()) {
      for (int64_t i = 0; i < y.numel(); ++i) y.data[i] = f(a.data[i], b.data[0]);
      return;
    }
    if (a.numel() == 1 && b.numel() == y.numel()) {
      for (int64_t i = 0; i < y.numel(); ++i) y.data[i] = f(a.data[0], b.data[i]);
      return;
    }
    const std::vector<int64_t> ia = broadcastIndex(a.shape, y.shape), ib = broadcastIndex(b.shape, y.shape);
    for (int64_t i = 0; i < y.numel(); ++i) y.data[i] = f(a.data[ia[i]], b.data[ib[i]]);
  }

  // Splits a shape around an axis: [outer, dim, inner].
  static void around(const std::vector<int64_t>& shape, int64_t axis, int64_t& outer, int64_t& dim, int64_t& inner) {
    outer = 1;
    inner = 1;
    for (int64_t i = 0; i < axis; ++i) outer *= shape[i];
    dim = shape[axis];
    for (size_t i = axis + 1; i < shape.size(); ++i) inner *= shape[i];
  }

  template <typename F>
  void reduce(mlir::Operation& op, int64_t axis, F finish) {
    const HostTensor<Real>& x = real(op.getOperand(0));
    HostTensor<Real>& y = result(op);
    int64_t outer, dim, inner;
    around(x.shape, axis, outer, dim, inner);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        std::vector<Real> v(dim);
        for (int64_t d = 0; d < dim; ++d) v[d] = x.data[(o * dim + d) * inner + i];
        y.data[o * inner + i] = finish(v);
      }
  }

  void exec(mlir::Operation& op) {
    using namespace hrm;
    llvm::TypeSwitch<mlir::Operation*>(&op)
        .Case([&](ConstantOp c) { result(op).data[0] = Real(c.getValue().convertToDouble()); })
        .Case([&](EmbeddingOp e) {
          const HostTensor<Real>& table = real(e.getTable());
          const HostTensor<int32_t>& tok = ints(e.getTokens());
          HostTensor<Real>& y = result(op);
          const int64_t V = table.shape[0], d = table.shape[1];
          for (int64_t t = 0; t < tok.numel(); ++t) {
            if (tok.data[t] < 0 || tok.data[t] >= V)
              throw ExecError("token id " + std::to_string(tok.data[t]) + " at position " + std::to_string(t) +
                              " is outside the vocabulary [0, " + std::to_string(V) + ")");
            std::copy_n(table.data.begin() + tok.data[t] * d, d, y.data.begin() + t * d);
          }
        })
        .Case([&](LinearOp l) {
          const HostTensor<Real>& x = real(l.getX());
          const HostTensor<Real>& w = real(l.getWeight());
          HostTensor<Real>& y = result(op);
          ref::linear(x.data.data(), w.data.data(), y.data.data(), x.numel() / w.shape[1], w.shape[1], w.shape[0]);
        })
        .Case([&](MatMulOp m) {
          const HostTensor<Real>& a = real(m.getA());
          const HostTensor<Real>& b = real(m.getB());
          HostTensor<Real>& y = result(op);
          ref::matmul(a.data.data(), b.data.data(), y.data.data(), a.numel() / b.shape[0], b.shape[0], b.shape[1]);
        })
        .Case([&](AddOp) { binary(op, [](Real a, Real b) { return a + b; }); })
        .Case([&](SubOp) { binary(op, [](Real a, Real b) { return a - b; }); })
        .Case([&](MulOp) { binary(op, [](Real a, Real b) { return a * b; }); })
        .Case([&](DivOp) { binary(op, [](Real a, Real b) { return a / b; }); })
        .Case([&](NegOp) { unary(op, [](Real x) { return -x; }); })
        .Case([&](SigmoidOp) { unary(op, [](Real x) { return Real(1) / (Real(1) + std::exp(-x)); }); })
        .Case([&](SiluOp) { unary(op, [](Real x) { return x / (Real(1) + std::exp(-x)); }); })
        .Case([&](ExpOp) { unary(op, [](Real x) { return std::exp(x); }); })
        .Case([&](TanhOp) { unary(op, [](Real x) { return std::tanh(x); }); })
        .Case([&](SqrtOp) { unary(op, [](Real x) { return std::sqrt(x); }); })
        .Case([&](StopGradientOp) { unary(op, [](Real x) { return x; }); })
        .Case([&](ConvertOp) { unary(op, [](Real x) { return x; }); })  // a bf16 result is rounded below
        .Case([&](RmsNormOp n) {
          const HostTensor<Real>& x = real(n.getX());
          HostTensor<Real>& y = result(op);
          const int64_t d = x.shape.back();
          ref::rmsNorm(x.data.data(), y.data.data(), x.numel() / d, d, n.getEps().convertToDouble());
        })
        .Case([&](RopeOp r) {
          const HostTensor<Real>& x = real(r.getX());
          ref::rope(x.data.data(), result(op).data.data(), batch_.seq, x.shape[1], x.shape[2],
                    r.getTheta().convertToDouble(), r.getInverse());
        })
        .Case([&](AttentionOp a) {
          const HostTensor<Real>& q = real(a.getQ());
          ref::attention(q.data.data(), real(a.getK()).data.data(), real(a.getV()).data.data(), result(op).data.data(),
                         batch_.seq, q.shape[1], q.shape[2], dsl::maskFromSpelling(a.getMask()));
        })
        .Case([&](SoftmaxOp s) {
          const HostTensor<Real>& x = real(s.getX());
          HostTensor<Real>& y = result(op);
          int64_t outer, dim, inner;
          around(x.shape, static_cast<int64_t>(s.getAxis()), outer, dim, inner);
          for (int64_t o = 0; o < outer; ++o)
            for (int64_t i = 0; i < inner; ++i) {
              auto at = [&](int64_t d) { return (o * dim + d) * inner + i; };
              Real m = x.data[at(0)], sum = 0;
              for (int64_t d = 1; d < dim; ++d) m = std::max(m, x.data[at(d)]);
              for (int64_t d = 0; d < dim; ++d) sum += (y.data[at(d)] = std::exp(x.data[at(d)] - m));
              for (int64_t d = 0; d < dim; ++d) y.data[at(d)] /= sum;
            }
        })
        .Case([&](SumOp s) {
          reduce(op, static_cast<int64_t>(s.getAxis()), [](const std::vector<Real>& v) {
            Real a = 0;
            for (Real x : v) a += x;
            return a;
          });
        })
        .Case([&](MeanOp s) {
          reduce(op, static_cast<int64_t>(s.getAxis()), [](const std::vector<Real>& v) {
            Real a = 0;
            for (Real x : v) a += x;
            return v.empty() ? Real(0) : a / Real(v.size());
          });
        })
        .Case([&](MaxOp s) {
          reduce(op, static_cast<int64_t>(s.getAxis()),
                 [](const std::vector<Real>& v) { return *std::max_element(v.begin(), v.end()); });
        })
        .Case([&](ReshapeOp r) {
          HostTensor<Real>& y = result(op);
          y.data = real(r.getX()).data;
        })
        .Case([&](BroadcastOp b) {
          const HostTensor<Real>& x = real(b.getX());
          HostTensor<Real>& y = result(op);
          const std::vector<int64_t> from = broadcastIndex(x.shape, y.shape);
          for (int64_t i = 0; i < y.numel(); ++i) y.data[i] = x.data[from[i]];
        })
        .Case([&](SliceOp s) {
          const HostTensor<Real>& x = real(s.getX());
          HostTensor<Real>& y = result(op);
          int64_t outer, dim, inner;
          around(x.shape, static_cast<int64_t>(s.getAxis()), outer, dim, inner);
          const int64_t off = static_cast<int64_t>(s.getOffset()), size = static_cast<int64_t>(s.getSize());
          for (int64_t o = 0; o < outer; ++o)
            std::copy_n(x.data.begin() + (o * dim + off) * inner, size * inner, y.data.begin() + o * size * inner);
        })
        .Case([&](ConcatOp c) {
          HostTensor<Real>& y = result(op);
          const int64_t axis = static_cast<int64_t>(c.getAxis());
          int64_t outer, total, inner;
          around(y.shape, axis, outer, total, inner);
          int64_t at = 0;
          for (mlir::Value v : c.getInputs()) {
            const HostTensor<Real>& x = real(v);
            const int64_t dim = x.shape[axis];
            for (int64_t o = 0; o < outer; ++o)
              std::copy_n(x.data.begin() + o * dim * inner, dim * inner, y.data.begin() + (o * total + at) * inner);
            at += dim;
          }
        })
        .Case([&](CrossEntropyOp c) {
          const HostTensor<Real>& logits = real(c.getLogits());
          ref::crossEntropy(logits.data.data(), ints(c.getLabels()).data.data(), result(op).data.data(),
                            logits.shape[0], logits.shape[1]);
        })
        .Case([&](ArgmaxMatchOp m) {
          const HostTensor<Real>& logits = real(m.getLogits());
          ref::argmaxMatch(logits.data.data(), ints(m.getLabels()).data.data(), result(op).data.data(),
                           logits.shape[0], logits.shape[1]);
        })
        .Case([&](LabelMeanOp m) {
          const HostTensor<Real>& v = real(m.getValues());
          result(op).data[0] = ref::labelMean(v.data.data(), ints(m.getLabels()).data.data(), v.numel());
        })
        .Case([&](ExactMatchOp m) {
          result(op).data[0] = ref::exactMatch(real(m.getMatch()).data.data(), ints(m.getLabels()).data.data(), batch_.seq);
        })
        .Case([&](OuterSumOp o) {
          const HostTensor<Real>& a = real(o.getA());
          const HostTensor<Real>& b = real(o.getB());
          const int64_t m = a.shape.back(), n = b.shape.back();
          ref::outerSum(a.data.data(), b.data.data(), result(op).data.data(), a.numel() / m, m, n);
        })
        .Case([&](EmbeddingGradOp e) {
          const HostTensor<Real>& g = real(e.getGrad());
          const HostTensor<int32_t>& tok = ints(e.getTokens());
          HostTensor<Real>& y = result(op);
          ref::embeddingGrad(tok.data.data(), g.data.data(), y.data.data(), tok.numel(), g.shape.back(),
                             static_cast<int64_t>(e.getVocab()));
        })
        .Case([&](RmsNormGradOp n) {
          const HostTensor<Real>& x = real(n.getX());
          const int64_t d = x.shape.back();
          ref::rmsNormGrad(x.data.data(), real(n.getGrad()).data.data(), result(op).data.data(), x.numel() / d, d,
                           n.getEps().convertToDouble());
        })
        .Case([&](AttentionGradOp a) {
          const HostTensor<Real>& q = real(a.getQ());
          std::vector<int64_t> shape = q.shape;
          HostTensor<Real> dq(shape), dk(shape), dv(shape);
          ref::attentionGrad(q.data.data(), real(a.getK()).data.data(), real(a.getV()).data.data(),
                             real(a.getGrad()).data.data(), dq.data.data(), dk.data.data(), dv.data.data(), batch_.seq,
                             shape[1], shape[2], dsl::maskFromSpelling(a.getMask()));
          slots_[a.getDq()].real = std::move(dq);
          slots_[a.getDk()].real = std::move(dk);
          slots_[a.getDv()].real = std::move(dv);
        })
        .Case([&](CrossEntropyGradOp c) {
          const HostTensor<Real>& logits = real(c.getLogits());
          ref::crossEntropyGrad(logits.data.data(), ints(c.getLabels()).data.data(), real(c.getGrad()).data.data(),
                                result(op).data.data(), logits.shape[0], logits.shape[1]);
        })
        .Case([&](LabelMeanGradOp l) {
          const HostTensor<int32_t>& labels = ints(l.getLabels());
          ref::labelMeanGrad(labels.data.data(), real(l.getGrad()).data[0], result(op).data.data(), labels.numel());
        })
        .Case([&](UnbroadcastOp u) {
          // Sum every element of x into the output element it broadcast from.
          const HostTensor<Real>& x = real(u.getX());
          HostTensor<Real>& y = result(op);
          const std::vector<int64_t> to = broadcastIndex(y.shape, x.shape);
          for (int64_t i = 0; i < x.numel(); ++i) y.data[to[i]] += x.data[i];
        })
        .Case([&](MaxGradOp m) {
          const HostTensor<Real>& x = real(m.getX());
          const HostTensor<Real>& g = real(m.getGrad());
          HostTensor<Real>& y = result(op);
          int64_t outer, dim, inner;
          around(x.shape, static_cast<int64_t>(m.getAxis()), outer, dim, inner);
          for (int64_t o = 0; o < outer; ++o)
            for (int64_t i = 0; i < inner; ++i) {
              int64_t best = 0;
              for (int64_t d = 1; d < dim; ++d)
                if (x.data[(o * dim + d) * inner + i] > x.data[(o * dim + best) * inner + i]) best = d;
              y.data[(o * dim + best) * inner + i] = g.data[o * inner + i];
            }
        })
        .Case([&](PadOp p) {
          const HostTensor<Real>& x = real(p.getX());
          HostTensor<Real>& y = result(op);
          int64_t outer, dim, inner;
          around(x.shape, static_cast<int64_t>(p.getAxis()), outer, dim, inner);
          const int64_t size = static_cast<int64_t>(p.getSize()), off = static_cast<int64_t>(p.getOffset());
          for (int64_t o = 0; o < outer; ++o)
            std::copy_n(x.data.begin() + o * dim * inner, dim * inner, y.data.begin() + (o * size + off) * inner);
        })
        .Case([&](StepOp s) {
          const std::string label = (s.getLevel() + llvm::Twine(s.getIndex())).str();
          const HostTensor<Real>* fixed = nullptr;
          if (frozen_)
            if (auto it = frozen_->find(label); it != frozen_->end()) fixed = &it->second;
          if (fixed) {
            slots_[s.getResult()].real = *fixed;
          } else {
            runBlock(s.getBody().front());
            slots_[s.getResult()] = slots_[yielded_];
          }
          out_.steps.emplace_back(label, slots_[s.getResult()].real);
        })
        .Default([&](mlir::Operation* o) {
          throw ExecError("the reference executor has no semantics for '" + o->getName().getStringRef().str() + "'");
        });
  }

  const PackedBatch& batch_;
  typename ReferenceExecutor<Real>::Outputs& out_;
  const typename ReferenceExecutor<Real>::FrozenSteps* frozen_;
  // unordered_map: references to slots stay valid while results are added.
  struct ValueHash {
    size_t operator()(mlir::Value v) const { return mlir::hash_value(v); }
  };
  std::unordered_map<mlir::Value, Slot<Real>, ValueHash> slots_;
  mlir::Value yielded_;
};

}  // namespace

template <typename Real>
typename ReferenceExecutor<Real>::Outputs ReferenceExecutor<Real>::run(const std::string& function,
                                                                        const PackedBatch& batch,
                                                                        const WeightMap& weights,
                                                                        const FrozenSteps* frozen) const {
  auto fn = module_.module().lookupSymbol<mlir::func::FuncOp>(function);
  if (!fn) throw ExecError("the module has no function '" + function + "'");
  const int64_t T = batch.seq.tokens();
  if (static_cast<int64_t>(batch.inputs.size()) != T)
    throw BatchError("the batch has " + std::to_string(batch.inputs.size()) + " tokens but " + std::to_string(T) + " positions");
  Outputs out;
  Interpreter<Real> interp(batch, out, frozen);
  mlir::Block& entry = fn.getBody().front();
  for (unsigned i = 0; i < entry.getNumArguments(); ++i) {
    mlir::Value arg = entry.getArgument(i);
    auto nameAttr = fn.getArgAttrOfType<mlir::StringAttr>(i, compiler::kArgNameAttr);
    const std::string name = nameAttr ? nameAttr.str() : "";
    Slot<Real> slot;
    if (mlir::isa<hrm::PackedSeqType>(arg.getType())) {
      interp.bind(arg, slot);
      continue;
    }
    auto type = mlir::cast<mlir::RankedTensorType>(arg.getType());
    if (type.getElementType().isInteger(32)) {
      if (name != "tokens" && name != "labels") throw ExecError("cannot bind integer input '" + name + "'");
      const std::vector<int32_t>& v = name == "labels" ? batch.labels : batch.inputs;
      if (static_cast<int64_t>(v.size()) != T)
        throw BatchError("'" + name + "' has " + std::to_string(v.size()) + " entries, expected " + std::to_string(T));
      slot.isInt = true;
      slot.ints.shape = {T};
      slot.ints.data = v;
      interp.bind(arg, std::move(slot));
      continue;
    }
    std::vector<int64_t> want(type.getShape().begin(), type.getShape().end());
    checkWeightFits(weights, name, want);
    auto it = weights.find(name);
    slot.real = it->second.template cast<Real>();
    if (isBf16(type)) roundToBf16InPlace(slot.real);  // a bf16 buffer (zL_init) holds bf16 values
    interp.bind(arg, std::move(slot));
  }
  interp.runBlock(entry);
  return out;
}

template class ReferenceExecutor<float>;
template class ReferenceExecutor<double>;

}  // namespace hrmc::runtime
