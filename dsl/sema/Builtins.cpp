// The built-in primitives and compile-time functions, with their type rules. Each primitive becomes
// one graph Node (one `hrm` dialect op); scalar functions are evaluated at compile time.
#include <cmath>
#include <functional>

#include "dsl/sema/Elaborator.h"

namespace hrmc::dsl {

namespace {

struct Builtin {
  const char* name;
  std::vector<const char*> params;  // parameter names in order; a trailing '?' marks an optional one
  const char* doc;
};

const std::vector<Builtin>& builtinTable() {
  static const std::vector<Builtin> table = {
      {"embedding", {"table", "tokens"}, "rows of table [V, d] gathered by token ids [T] -> [T, d]"},
      {"linear", {"x", "weight"}, "x W^T with weight [out, in]: [..., in] -> [..., out]"},
      {"matmul", {"a", "b"}, "[..., k] @ [k, n] -> [..., n]"},
      {"rms_norm", {"x", "eps?"}, "x / sqrt(mean(x^2) + eps) over the last axis, no weight"},
      {"rope", {"x", "theta?"}, "rotate-half rotary embedding of [T, heads, head_dim] at the packed positions"},
      {"attention", {"q", "k", "v", "mask?"}, "softmax(q k^T / sqrt(hd)) v over packed samples, [T, h, hd]"},
      {"sigmoid", {"x"}, "1 / (1 + exp(-x))"},
      {"silu", {"x"}, "x * sigmoid(x)"},
      {"exp", {"x"}, "e^x"},
      {"tanh", {"x"}, "hyperbolic tangent"},
      {"sqrt", {"x"}, "square root (tensor or compile-time number)"},
      {"softmax", {"x", "axis?"}, "softmax along an axis (default last)"},
      {"sum", {"x", "axis?"}, "sum over an axis (removed)"},
      {"mean", {"x", "axis?"}, "mean over an axis (removed)"},
      {"max", {"x", "axis?"}, "max over an axis (removed); max(a, b) of two numbers"},
      {"min", {"a", "b"}, "the smaller of two compile-time numbers"},
      {"reshape", {"x", "shape"}, "same elements, new shape (T stays)"},
      {"split", {"x", "parts", "axis?"}, "n equal parts, or parts of the listed sizes, along an axis"},
      {"concat", {"xs", "axis?"}, "join a list of tensors along an axis"},
      {"broadcast_to", {"x", "shape"}, "broadcast to a shape"},
      {"cross_entropy", {"logits", "labels"}, "per-token CE of logits [T, V] against labels [T]; -100 is ignored"},
      {"stop_gradient", {"x"}, "x, with no gradient flowing back"},
      {"cast", {"x", "dtype"}, "x as f32 or bf16: to bf16 rounds to nearest even, to f32 is exact"},
      {"float", {"x"}, "a number as float"},
      {"int", {"x"}, "a number truncated to int"},
      {"round", {"x"}, "round half to even (Python's round)"},
      {"ceil", {"x"}, "smallest int >= x"},
      {"floor", {"x"}, "largest int <= x"},
      {"abs", {"x"}, "absolute value"},
      {"round_up", {"x", "multiple"}, "x rounded up to a multiple: ceil(x / m) * m"},
      {"trunc_normal", {"std"}, "initializer: fmod(N(0,1), 3) * 1.0147626 * std (HRM-TEXT.md §1.9)"},
      {"lecun", {"fan_in"}, "initializer: trunc_normal(1 / sqrt(fan_in))"},
      {"zeros", {}, "initializer: all zeros"},
      {"ones", {}, "initializer: all ones"},
  };
  return table;
}

const Builtin* findBuiltin(const std::string& name) {
  for (const Builtin& b : builtinTable())
    if (name == b.name) return &b;
  return nullptr;
}

}  // namespace

bool Elaborator::isBuiltin(const std::string& name) const { return findBuiltin(name) != nullptr; }

const std::vector<std::string>& Elaborator::builtinNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const Builtin& b : builtinTable()) v.push_back(b.name);
    return v;
  }();
  return names;
}

Value Elaborator::callBuiltin(const std::string& name, Loc at, std::vector<Value> pos,
                              std::vector<std::pair<std::string, Value>> named, const std::vector<Loc>& argLocs) {
  const Builtin& b = *findBuiltin(name);
  // max(a, b) of two numbers shares its name with the tensor reduction.
  if (name == "max" && pos.size() == 2 && pos[0].isScalarNumber() && pos[1].isScalarNumber() && named.empty()) {
    if (pos[0].kind == Value::Kind::Int && pos[1].kind == Value::Kind::Int) return Value::integer(std::max(pos[0].i, pos[1].i));
    return Value::real(std::max(pos[0].number(), pos[1].number()));
  }
  // Bind arguments to parameter names.
  const size_t n = b.params.size();
  std::vector<std::optional<Value>> args(n);
  std::vector<Loc> locs(n, at);
  auto pname = [&](size_t i) {
    std::string p = b.params[i];
    if (!p.empty() && p.back() == '?') p.pop_back();
    return p;
  };
  std::string signature = name + "(";
  for (size_t i = 0; i < n; ++i) signature += (i ? ", " : "") + pname(i) + (std::string(b.params[i]).back() == '?' ? "=..." : "");
  signature += ")";
  if (pos.size() > n) {
    error(at, "'" + name + "' takes at most " + std::to_string(n) + " argument" + (n == 1 ? "" : "s") + ", but " +
                  std::to_string(pos.size()) + " were given",
          "signature: " + signature);
    return Value::error();
  }
  for (size_t i = 0; i < pos.size(); ++i) {
    args[i] = pos[i];
    if (i < argLocs.size()) locs[i] = argLocs[i];
  }
  for (size_t k = 0; k < named.size(); ++k) {
    size_t i = 0;
    while (i < n && pname(i) != named[k].first) ++i;
    if (i == n) {
      std::vector<std::string> ps;
      for (size_t j = 0; j < n; ++j) ps.push_back(pname(j));
      error(at, "'" + name + "' has no parameter '" + named[k].first + "'" + didYouMean(named[k].first, ps),
            "signature: " + signature);
      return Value::error();
    }
    if (args[i]) {
      error(at, "argument '" + pname(i) + "' of '" + name + "' is given twice");
      return Value::error();
    }
    args[i] = named[k].second;
    if (pos.size() + k < argLocs.size()) locs[i] = argLocs[pos.size() + k];
  }
  for (size_t i = 0; i < n; ++i)
    if (!args[i] && std::string(b.params[i]).back() != '?') {
      error(at, "'" + name + "' is missing argument '" + pname(i) + "'", "signature: " + signature);
      return Value::error();
    }
  auto arg = [&](size_t i) -> const Value& { return *args[i]; };
  auto has = [&](size_t i) { return args[i].has_value(); };

  auto number = [&](size_t i, double& out) {
    if (!arg(i).isScalarNumber()) {
      error(locs[i], "'" + pname(i) + "' of '" + name + "' must be a number, but it is " + describeKind(arg(i).kind));
      return false;
    }
    out = arg(i).number();
    return true;
  };
  auto tensorArg = [&](size_t i) -> const TensorType* {
    if (!expectTensor(arg(i), locs[i], "'" + pname(i) + "' of '" + name + "'")) return nullptr;
    return &typeOf(arg(i));
  };
  auto floatTensor = [&](size_t i) -> const TensorType* {
    const TensorType* t = tensorArg(i);
    if (t && t->dtype == DType::I32) {
      error(locs[i], "'" + pname(i) + "' of '" + name + "' must be a float tensor, but it holds token ids (i32)");
      return nullptr;
    }
    return t;
  };
  auto axisArg = [&](size_t i, size_t rank, int64_t& axis) {
    axis = -1;
    if (has(i) && !expectInt(arg(i), locs[i], "the axis", axis)) return false;
    int64_t r = static_cast<int64_t>(rank);
    if (axis < -r || axis >= r) {
      error(locs[i], "axis " + std::to_string(axis) + " is out of range for a rank-" + std::to_string(rank) + " tensor");
      return false;
    }
    if (axis < 0) axis += r;
    return true;
  };
  auto shapeArg = [&](size_t i, TensorType& out) {
    const Value& v = arg(i);
    if (v.kind != Value::Kind::List) {
      error(locs[i], "'" + pname(i) + "' must be a list of dimensions like [T, heads, head_dim]");
      return false;
    }
    for (const Value& d : v.elems) {
      if (d.kind == Value::Kind::DimT) {
        out.dims.push_back(kDimT);
        out.names.push_back("T");
      } else if (d.kind == Value::Kind::Int && d.i > 0 && d.i <= ElabLimits::kMaxDim) {
        out.dims.push_back(d.i);
        out.names.push_back(d.s);
      } else {
        error(locs[i], "a dimension must be T or a positive int, but one is " +
                           (d.kind == Value::Kind::Int ? std::to_string(d.i) : describeKind(d.kind)));
        return false;
      }
    }
    return true;
  };
  auto unary = [&](OpKind op, const TensorType& t) {
    Node nd;
    nd.op = op;
    nd.inputs = {arg(0).node};
    nd.type = t;
    nd.loc = at;
    return nd;
  };
  auto emit = [&](Node nd) { return Value::tensor(addNode(std::move(nd))); };

  // ---- compile-time functions
  if (name == "float" || name == "int" || name == "round" || name == "ceil" || name == "floor" || name == "abs" ||
      (name == "sqrt" && arg(0).isScalarNumber())) {
    double x;
    if (!number(0, x)) return Value::error();
    if (name == "float") return Value::real(x);
    if (name == "sqrt") {
      if (x < 0) {
        error(locs[0], "sqrt of a negative number");
        return Value::error();
      }
      return Value::real(std::sqrt(x));
    }
    if (name == "abs") return arg(0).kind == Value::Kind::Int ? Value::integer(std::llabs(arg(0).i)) : Value::real(std::fabs(x));
    double r = name == "int" ? std::trunc(x) : name == "round" ? std::nearbyint(x) : name == "ceil" ? std::ceil(x) : std::floor(x);
    if (!(std::fabs(r) < 9.0e18)) {
      error(locs[0], "'" + name + "' result does not fit in an int");
      return Value::error();
    }
    return Value::integer(static_cast<int64_t>(r));
  }
  if (name == "min") {
    double a, c;
    if (!number(0, a) || !number(1, c)) return Value::error();
    if (arg(0).kind == Value::Kind::Int && arg(1).kind == Value::Kind::Int) return Value::integer(std::min(arg(0).i, arg(1).i));
    return Value::real(std::min(a, c));
  }
  if (name == "round_up") {
    int64_t x, m;
    if (!expectInt(arg(0), locs[0], "'x' of round_up", x) || !expectInt(arg(1), locs[1], "'multiple' of round_up", m))
      return Value::error();
    if (m <= 0) {
      error(locs[1], "round_up needs a positive multiple");
      return Value::error();
    }
    int64_t q = x / m + (x % m > 0 ? 1 : 0);
    return Value::integer(q * m);
  }
  if (name == "trunc_normal" || name == "lecun" || name == "zeros" || name == "ones") {
    Value v;
    v.kind = Value::Kind::Init;
    if (name == "zeros" || name == "ones") {
      v.init = name == "zeros" ? InitKind::Zeros : InitKind::Ones;
      return v;
    }
    double x;
    if (!number(0, x)) return Value::error();
    if (name == "lecun" && x <= 0) {
      error(locs[0], "lecun needs a positive fan-in");
      return Value::error();
    }
    v.init = InitKind::TruncNormal;
    v.f = name == "lecun" ? 1.0 / std::sqrt(x) : x;
    if (v.f < 0 || !std::isfinite(v.f)) {
      error(locs[0], "the standard deviation must be a finite number >= 0");
      return Value::error();
    }
    return v;
  }

  // ---- tensor primitives
  if (name == "embedding") {
    const TensorType* table = floatTensor(0);
    const TensorType* tok = tensorArg(1);
    if (!table || !tok) return Value::error();
    if (table->dims.size() != 2) {
      error(locs[0], "the embedding table must be [vocab, dim], but it is " + table->str());
      return Value::error();
    }
    if (tok->dtype != DType::I32) {
      error(locs[1], "token ids must be i32, but they are " + tok->str());
      return Value::error();
    }
    Node nd;
    nd.op = OpKind::Embedding;
    nd.inputs = {arg(0).node, arg(1).node};
    nd.type = *tok;
    nd.type.dtype = table->dtype;
    nd.type.dims.push_back(table->dims[1]);
    nd.type.names.push_back(table->names[1]);
    nd.loc = at;
    return emit(nd);
  }
  if (name == "linear" || name == "matmul") {
    const TensorType* x = floatTensor(0);
    const TensorType* w = floatTensor(1);
    if (!x || !w) return Value::error();
    const bool lin = name == "linear";
    if (x->dims.empty() || w->dims.size() != 2 || x->dims.back() != w->dims[lin ? 1 : 0]) {
      error(at, lin ? "'linear' needs x [..., in] and weight [out, in], but got x " + x->str() + " and weight " + w->str()
                    : "'matmul' needs [..., k] and [k, n], but got " + x->str() + " and " + w->str());
      return Value::error();
    }
    Node nd;
    nd.op = lin ? OpKind::Linear : OpKind::MatMul;
    nd.inputs = {arg(0).node, arg(1).node};
    nd.type = *x;
    nd.type.dtype = promote(x->dtype, w->dtype);
    nd.type.dims.back() = w->dims[lin ? 0 : 1];
    nd.type.names.back() = w->names[lin ? 0 : 1];
    nd.loc = at;
    return emit(nd);
  }
  if (name == "rms_norm") {
    const TensorType* x = floatTensor(0);
    double eps = 1e-6;
    if (!x || (has(1) && !number(1, eps))) return Value::error();
    if (eps <= 0) {
      error(locs[1], "eps must be positive");
      return Value::error();
    }
    Node nd = unary(OpKind::RmsNorm, *x);
    nd.scalar = eps;
    return emit(nd);
  }
  if (name == "rope") {
    const TensorType* x = floatTensor(0);
    double theta = 10000.0;
    if (!x || (has(1) && !number(1, theta))) return Value::error();
    if (x->dims.size() != 3 || x->dims[0] != kDimT || x->dims[2] % 2 != 0) {
      error(locs[0], "'rope' needs [T, heads, head_dim] with an even head_dim, but got " + x->str());
      return Value::error();
    }
    if (theta <= 1) {
      error(locs[1], "rope theta must be greater than 1");
      return Value::error();
    }
    Node nd = unary(OpKind::Rope, *x);
    nd.scalar = theta;
    return emit(nd);
  }
  if (name == "attention") {
    const TensorType* q = floatTensor(0);
    const TensorType* k = floatTensor(1);
    const TensorType* v = floatTensor(2);
    if (!q || !k || !v) return Value::error();
    if (q->dims.size() != 3 || q->dims[0] != kDimT || k->dims != q->dims || v->dims != q->dims) {
      error(at, "'attention' needs q, k and v of one shape [T, heads, head_dim], but got " + q->str() + ", " +
                    k->str() + ", " + v->str());
      return Value::error();
    }
    MaskKind mask = graph_.mask;
    if (has(3)) {
      const Value& m = arg(3);
      if (m.kind != Value::Kind::Enum || m.enumType != &prog_.maskEnum()) {
        error(locs[3], "mask must be prefixlm, causal or full");
        return Value::error();
      }
      mask = static_cast<MaskKind>(m.i);
    }
    Node nd;
    nd.op = OpKind::Attention;
    nd.inputs = {arg(0).node, arg(1).node, arg(2).node};
    nd.type = *q;
    nd.mask = mask;
    nd.loc = at;
    return emit(nd);
  }
  if (name == "sigmoid" || name == "silu" || name == "exp" || name == "tanh" || name == "sqrt" ||
      name == "stop_gradient") {
    const TensorType* x = floatTensor(0);
    if (!x) return Value::error();
    OpKind op = name == "sigmoid" ? OpKind::Sigmoid : name == "silu" ? OpKind::Silu : name == "exp" ? OpKind::Exp
              : name == "tanh" ? OpKind::Tanh : name == "sqrt" ? OpKind::Sqrt : OpKind::StopGradient;
    return emit(unary(op, *x));
  }
  if (name == "cast") {
    const TensorType* x = floatTensor(0);
    if (!x) return Value::error();
    const Value& d = arg(1);
    if (d.kind != Value::Kind::Enum || d.enumType->name != "Float") {
      error(locs[1], "cast converts to a float type, f32 or bf16, but this is " + describeKind(d.kind),
            "e.g. cast(x, bf16)");
      return Value::error();
    }
    const DType to = d.i == 0 ? DType::F32 : DType::BF16;
    if (to == x->dtype) return arg(0);  // already that type: nothing to round
    TensorType t = *x;
    t.dtype = to;
    return emit(unary(OpKind::Convert, t));
  }
  if (name == "softmax" || name == "sum" || name == "mean" || name == "max") {
    const TensorType* x = floatTensor(0);
    int64_t axis;
    if (!x || !axisArg(1, x->dims.size(), axis)) return Value::error();
    if (x->dims.empty()) {
      error(locs[0], "'" + name + "' needs a tensor of rank >= 1");
      return Value::error();
    }
    OpKind op = name == "softmax" ? OpKind::Softmax : name == "sum" ? OpKind::Sum : name == "mean" ? OpKind::Mean : OpKind::Max;
    TensorType t = *x;
    if (op != OpKind::Softmax) {
      t.dims.erase(t.dims.begin() + axis);
      t.names.erase(t.names.begin() + axis);
    }
    Node nd = unary(op, t);
    nd.axis = axis;
    return emit(nd);
  }
  if (name == "reshape" || name == "broadcast_to") {
    const TensorType* x = tensorArg(0);
    TensorType t;
    if (!x || !shapeArg(1, t)) return Value::error();
    t.dtype = x->dtype;
    const bool reshape = name == "reshape";
    if (reshape) {
      auto countT = [](const TensorType& y) { return std::count(y.dims.begin(), y.dims.end(), kDimT); };
      if (countT(*x) != countT(t) || x->numelWithoutT() != t.numelWithoutT() ||
          (countT(t) > 0 && (t.dims[0] != kDimT || x->dims[0] != kDimT))) {
        error(at, "cannot reshape " + x->str() + " to " + t.str(),
              "a reshape keeps the element count and keeps T as the leading dimension");
        return Value::error();
      }
      Node nd = unary(OpKind::Reshape, t);
      return emit(nd);
    }
    return coerceToType(arg(0), t, /*dtypeWritten=*/false, at, "the value");
  }
  if (name == "split") {
    const TensorType* xp = tensorArg(0);
    if (!xp) return Value::error();
    const TensorType xt = *xp;  // a copy: emitting the slices grows the node list
    const TensorType* x = &xt;
    int64_t axis;
    if (!axisArg(2, x->dims.size(), axis)) return Value::error();
    if (x->dims[axis] == kDimT) {
      error(at, "cannot split along the token dimension T");
      return Value::error();
    }
    std::vector<int64_t> sizes;
    const Value& parts = arg(1);
    if (parts.kind == Value::Kind::Int) {
      if (parts.i <= 0 || x->dims[axis] % parts.i != 0) {
        error(locs[1], "cannot split a dimension of " + std::to_string(x->dims[axis]) + " into " +
                           std::to_string(parts.i) + " equal parts");
        return Value::error();
      }
      sizes.assign(parts.i, x->dims[axis] / parts.i);
    } else if (parts.kind == Value::Kind::List) {
      int64_t total = 0;
      for (const Value& p : parts.elems) {
        if (p.kind != Value::Kind::Int || p.i <= 0) {
          error(locs[1], "split sizes must be positive ints");
          return Value::error();
        }
        sizes.push_back(p.i);
        total += p.i;
      }
      if (total != x->dims[axis]) {
        error(locs[1], "split sizes add up to " + std::to_string(total) + ", but the dimension is " +
                           std::to_string(x->dims[axis]));
        return Value::error();
      }
    } else {
      error(locs[1], "'parts' must be an int or a list of sizes");
      return Value::error();
    }
    if (sizes.size() > 4096) {
      error(locs[1], "split into more than 4096 parts");
      return Value::error();
    }
    Value tuple;
    tuple.kind = Value::Kind::Tuple;
    int64_t offset = 0;
    for (int64_t sz : sizes) {
      TensorType t = *x;
      t.dims[axis] = sz;
      t.names[axis] = "";
      Node nd = unary(OpKind::Slice, t);
      nd.axis = axis;
      nd.offset = offset;
      offset += sz;
      tuple.elems.push_back(emit(nd));
    }
    return tuple;
  }
  if (name == "concat") {
    const Value& xs = arg(0);
    if (xs.kind != Value::Kind::List || xs.elems.empty()) {
      error(locs[0], "'concat' takes a non-empty list of tensors: concat([a, b], axis = -1)");
      return Value::error();
    }
    for (const Value& x : xs.elems)
      if (!expectTensor(x, locs[0], "every item of concat's list")) return Value::error();
    TensorType t = typeOf(xs.elems[0]);
    int64_t axis;
    if (!axisArg(1, t.dims.size(), axis)) return Value::error();
    Node nd;
    nd.op = OpKind::Concat;
    nd.axis = axis;
    nd.loc = at;
    for (size_t i = 0; i < xs.elems.size(); ++i) {
      const TensorType& u = typeOf(xs.elems[i]);
      bool ok = u.dims.size() == t.dims.size() && u.dtype == t.dtype;
      for (size_t d = 0; ok && d < u.dims.size(); ++d) ok = d == static_cast<size_t>(axis) || u.dims[d] == t.dims[d];
      if (!ok || (i > 0 && u.dims[axis] == kDimT)) {
        error(locs[0], "cannot concatenate " + typeOf(xs.elems[0]).str() + " with " + u.str() + " along axis " +
                           std::to_string(axis));
        return Value::error();
      }
      if (i > 0) t.dims[axis] += u.dims[axis];
      nd.inputs.push_back(xs.elems[i].node);
    }
    t.names[axis] = "";
    nd.type = t;
    return emit(nd);
  }
  if (name == "cross_entropy") {
    const TensorType* logits = floatTensor(0);
    const TensorType* labels = tensorArg(1);
    if (!logits || !labels) return Value::error();
    if (logits->dims.size() != 2 || labels->dims.size() != 1 || labels->dims[0] != logits->dims[0] ||
        labels->dtype != DType::I32) {
      error(at, "'cross_entropy' needs logits [T, V] and i32 labels [T], but got " + logits->str() + " and " +
                    labels->str());
      return Value::error();
    }
    Node nd;
    nd.op = OpKind::CrossEntropy;
    nd.inputs = {arg(0).node, arg(1).node};
    nd.type = *labels;
    nd.type.dtype = DType::F32;
    nd.loc = at;
    return emit(nd);
  }
  error(at, "'" + name + "' cannot be used here");
  return Value::error();
}

}  // namespace hrmc::dsl
