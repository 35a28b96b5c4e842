#include "dsl/sema/Elaborator.h"

#include <cmath>

namespace hrmc::dsl {

std::string describeKind(Value::Kind k) {
  switch (k) {
    case Value::Kind::Error: return "an invalid value";
    case Value::Kind::None: return "nothing";
    case Value::Kind::Int: return "an int";
    case Value::Kind::Float: return "a float";
    case Value::Kind::Bool: return "a bool";
    case Value::Kind::Enum: return "an enum value";
    case Value::Kind::String: return "a string";
    case Value::Kind::DimT: return "the token dimension T";
    case Value::Kind::Tensor: return "a tensor";
    case Value::Kind::Module: return "a module";
    case Value::Kind::Tuple: return "a tuple";
    case Value::Kind::List: return "a list";
    case Value::Kind::Init: return "an initializer";
    case Value::Kind::Callable: return "a function";
  }
  return "a value";
}

std::string ModuleInstance::typeName() const { return isStack ? "stack" : decl ? decl->name : "?"; }

// ---------------------------------------------------------------- diagnostics

Diagnostic& Elaborator::error(Loc loc, std::string message, std::string hint) {
  Diagnostic& d = diags_.error(loc, std::move(message), std::move(hint));
  // Show where the failing code was reached from, innermost first (at most three levels).
  int shown = 0;
  for (auto it = contextNotes_.rbegin(); it != contextNotes_.rend() && shown < 3; ++it, ++shown)
    d.notes.push_back(*it);
  return d;
}

bool Elaborator::expectTensor(const Value& v, Loc loc, const std::string& what) {
  if (v.kind == Value::Kind::Tensor) return true;
  if (!v.isError()) error(loc, what + " must be a tensor, but it is " + describeKind(v.kind));
  return false;
}

bool Elaborator::expectInt(const Value& v, Loc loc, const std::string& what, int64_t& out) {
  if (v.kind == Value::Kind::Int) {
    out = v.i;
    return true;
  }
  if (!v.isError())
    error(loc, what + " must be a compile-time int, but it is " + describeKind(v.kind),
          v.kind == Value::Kind::Tensor ? "loop counts and sizes come from the config, not from tensors" : "");
  return false;
}

// ---------------------------------------------------------------- graph

int Elaborator::addNode(Node n) {
  if (graph_.nodes.size() >= ElabLimits::kMaxNodes) {
    error(n.loc, "the model unrolls into more than " + std::to_string(ElabLimits::kMaxNodes) + " operations",
          "reduce the layer count or the number of recurrent cycles");
    throw ElabAbort{};
  }
  if (n.step < 0) n.step = currentStep_;
  graph_.nodes.push_back(std::move(n));
  return static_cast<int>(graph_.nodes.size() - 1);
}

Value Elaborator::constant(double v, Loc loc) {
  Node n;
  n.op = OpKind::Constant;
  n.scalar = v;
  n.loc = loc;
  return Value::tensor(addNode(std::move(n)));
}

Value Elaborator::broadcastTo(const Value& v, const TensorType& t, Loc loc) {
  const TensorType& from = typeOf(v);
  if (from.dims == t.dims) return v;
  Node n;
  n.op = OpKind::Broadcast;
  n.inputs = {v.node};
  n.type = t;
  n.type.dtype = from.dtype;
  n.loc = loc;
  return Value::tensor(addNode(std::move(n)));
}

// ---------------------------------------------------------------- types

std::optional<DType> Elaborator::dtypeOf(const std::string& name, Loc loc) {
  if (name.empty() || name == "f32") return DType::F32;
  if (name == "bf16") return DType::BF16;
  if (name == "i32") return DType::I32;
  error(loc, "unknown element type '" + name + "'" + didYouMean(name, {"f32", "bf16", "i32"}),
        "element types are f32, bf16 and i32");
  return std::nullopt;
}

std::optional<TensorType> Elaborator::evalTensorType(const ast::TensorType& t, bool bindDims) {
  TensorType out;
  bool ok = true;
  for (const ast::ExprPtr& d : t.dims) {
    // In a parameter type, an unknown bare name binds a dimension variable (`x: [T, d]`).
    if (bindDims && ctx_.dimVars && d->kind == ast::ExprKind::Name) {
      Value known;
      bool bound = findVar(d->text) || ctx_.dimVars->count(d->text) ||
                   (ctx_.self && ctx_.self->env.count(d->text)) || lookupConfig(d->text, known) || d->text == "T";
      if (!bound) {
        out.dims.push_back(0);  // filled in when the argument is matched
        out.names.push_back("?" + d->text);
        continue;
      }
      if (auto it = ctx_.dimVars->find(d->text); it != ctx_.dimVars->end()) {
        out.dims.push_back(it->second.i);
        out.names.push_back(d->text);
        continue;
      }
    }
    Value v = eval(*d);
    if (v.kind == Value::Kind::DimT) {
      out.dims.push_back(kDimT);
      out.names.push_back("T");
    } else if (v.kind == Value::Kind::Int) {
      if (v.i <= 0 || v.i > ElabLimits::kMaxDim) {
        error(d->loc, "dimension " + (v.s.empty() ? "" : "'" + v.s + "' ") + "is " + std::to_string(v.i) +
                          "; dimensions must be between 1 and 2^40");
        ok = false;
      }
      out.dims.push_back(v.i);
      out.names.push_back(v.s);
    } else {
      if (!v.isError()) error(d->loc, "a dimension must be an int or T, but this is " + describeKind(v.kind));
      ok = false;
    }
  }
  auto dt = dtypeOf(t.dtype, t.dtypeLoc);
  if (!dt || !ok) return std::nullopt;
  out.dtype = *dt;
  return out;
}

// ---------------------------------------------------------------- names

bool Elaborator::lookupConfig(const std::string& name, Value& out) const {
  // Config names are the root file's; while the config resolves, an imported file's entries see them too.
  if (!ctx_.file || (ctx_.file != prog_.root() && !resolvingConfig_)) return false;
  auto it = config_.find(name);
  if (it == config_.end()) return false;
  out = it->second;
  return true;
}

Elaborator::Var* Elaborator::findVar(const std::string& name) {
  for (Scope* s = ctx_.scope; s; s = s->parent)
    if (auto it = s->vars.find(name); it != s->vars.end()) return &it->second;
  return nullptr;
}

std::vector<std::string> Elaborator::namesInScope() const {
  std::vector<std::string> out;
  for (Scope* s = ctx_.scope; s; s = s->parent)
    for (const auto& [n, _] : s->vars) out.push_back(n);
  if (ctx_.self) {
    for (const auto& [n, _] : ctx_.self->env) out.push_back(n);
    if (ctx_.self->decl)
      for (const ast::Member& m : ctx_.self->decl->members)
        if (m.kind == ast::MemberKind::Fn) out.push_back(m.name);
  }
  if (ctx_.file == prog_.root())
    for (const auto& [n, _] : config_) out.push_back(n);
  if (ctx_.file) {
    std::vector<std::string> v = prog_.visibleNames(*ctx_.file);
    out.insert(out.end(), v.begin(), v.end());
  }
  for (const std::string& b : builtinNames()) out.push_back(b);
  out.push_back("T");
  return out;
}

Value Elaborator::evalName(const ast::Expr& e) {
  const std::string& n = e.text;
  if (Var* v = findVar(n)) return v->value;
  if (ctx_.dimVars)
    if (auto it = ctx_.dimVars->find(n); it != ctx_.dimVars->end()) return it->second;
  if (ctx_.self) {
    if (auto it = ctx_.self->env.find(n); it != ctx_.self->env.end()) {
      Value v = it->second;
      if (v.kind == Value::Kind::Int && v.s.empty()) v.s = n;
      return v;
    }
    if (ctx_.self->decl)
      for (const ast::Member& m : ctx_.self->decl->members)
        if (m.kind == ast::MemberKind::Fn && m.name == n) {
          Value c;
          c.kind = Value::Kind::Callable;
          c.fn = m.fn.get();
          c.module = ctx_.self;
          return c;
        }
  }
  Value cfg;
  if (lookupConfig(n, cfg)) {
    if (cfg.kind == Value::Kind::Int) cfg.s = n;
    return cfg;
  }
  if (n == "T") {
    Value t;
    t.kind = Value::Kind::DimT;
    return t;
  }
  if (ctx_.file) {
    if (const ast::FnDecl* f = prog_.findFn(*ctx_.file, n)) {
      Value c;
      c.kind = Value::Kind::Callable;
      c.fn = f;
      return c;
    }
    // A bare enum value: unique among the enums this file sees.
    std::vector<const EnumType*> enums(prog_.builtinEnums().begin(), prog_.builtinEnums().end());
    auto addScope = [&](const FileScope& s) {
      for (const auto& [_, t] : s.enums) enums.push_back(t);
    };
    addScope(*ctx_.file);
    for (const FileScope* d : ctx_.file->imports) addScope(*d);
    for (const EnumType* t : enums)
      if (int idx = t->indexOf(n); idx >= 0) {
        Value v;
        v.kind = Value::Kind::Enum;
        v.enumType = t;
        v.i = idx;
        return v;
      }
    if (prog_.findModule(*ctx_.file, n)) {
      error(e.loc, "module '" + n + "' cannot be used as a value",
            "declare it as a member (`name: " + n + "(...);`) and call the member");
      return Value::error();
    }
  }
  if (isBuiltin(n)) {
    Value c;
    c.kind = Value::Kind::Callable;
    c.s = n;
    return c;
  }
  error(e.loc, "unknown name '" + n + "'" + didYouMean(n, namesInScope()));
  return Value::error();
}

Value Elaborator::evalMember(const ast::Expr& e) {
  Value obj = eval(*e.lhs);
  if (obj.isError()) return obj;
  if (obj.kind != Value::Kind::Module) {
    error(e.loc, "'." + e.text + "' needs a module on its left, but that is " + describeKind(obj.kind));
    return Value::error();
  }
  ModuleInstance* m = obj.module;
  if (auto it = m->env.find(e.text); it != m->env.end()) return it->second;
  if (m->isStack) {
    error(e.loc, "a stack has no member '" + e.text + "'", "call the stack to apply its items in sequence");
    return Value::error();
  }
  std::vector<std::string> names;
  for (const auto& [n, _] : m->env) names.push_back(n);
  for (const ast::Member& mem : m->decl->members)
    if (mem.kind == ast::MemberKind::Fn) {
      if (mem.name == e.text) {
        Value c;
        c.kind = Value::Kind::Callable;
        c.fn = mem.fn.get();
        c.module = m;
        return c;
      }
      names.push_back(mem.name);
    }
  error(e.loc, "module '" + m->typeName() + "' has no member '" + e.text + "'" + didYouMean(e.text, names));
  return Value::error();
}

// ---------------------------------------------------------------- operators

Value Elaborator::eval(const ast::Expr& e) {
  switch (e.kind) {
    case ast::ExprKind::Int: return Value::integer(e.intValue);
    case ast::ExprKind::Float: return Value::real(e.floatValue);
    case ast::ExprKind::Bool: return Value::boolean(e.boolValue);
    case ast::ExprKind::String: {
      Value v;
      v.kind = Value::Kind::String;
      v.s = e.text;
      return v;
    }
    case ast::ExprKind::Name: return evalName(e);
    case ast::ExprKind::Member: return evalMember(e);
    case ast::ExprKind::Call: return evalCall(e);
    case ast::ExprKind::Unary: return evalUnary(e);
    case ast::ExprKind::Binary: return evalBinary(e);
    case ast::ExprKind::Cond: {
      Value c = eval(*e.cond);
      if (c.isError()) return c;
      if (c.kind != Value::Kind::Bool) {
        error(e.cond->loc, "a condition must be a compile-time bool, but it is " + describeKind(c.kind));
        return Value::error();
      }
      return eval(c.b ? *e.lhs : *e.rhs);
    }
    case ast::ExprKind::List: {
      Value v;
      v.kind = Value::Kind::List;
      for (const ast::ExprPtr& x : e.elems) {
        v.elems.push_back(eval(*x));
        if (v.elems.back().isError()) return Value::error();
      }
      return v;
    }
  }
  return Value::error();
}

Value Elaborator::evalUnary(const ast::Expr& e) {
  Value v = eval(*e.lhs);
  if (v.isError()) return v;
  if (e.unaryOp == ast::UnaryOp::Not) {
    if (v.kind == Value::Kind::Bool) return Value::boolean(!v.b);
    error(e.loc, "'!' needs a bool, but its operand is " + describeKind(v.kind));
    return Value::error();
  }
  if (v.kind == Value::Kind::Int) return Value::integer(-v.i);
  if (v.kind == Value::Kind::Float) return Value::real(-v.f);
  if (v.kind == Value::Kind::Tensor) {
    Node n;
    n.op = OpKind::Neg;
    n.inputs = {v.node};
    n.type = typeOf(v);
    n.loc = e.loc;
    return Value::tensor(addNode(std::move(n)));
  }
  error(e.loc, "'-' needs a number or a tensor, but its operand is " + describeKind(v.kind));
  return Value::error();
}

namespace {
std::string joinLabel(const Value& a, const char* op, const Value& b) {
  auto part = [](const Value& v) { return v.s.empty() ? std::to_string(v.i) : v.s; };
  if (a.s.empty() && b.s.empty()) return {};
  std::string s = part(a) + op + part(b);
  return s.size() <= 24 ? s : std::string();
}
bool mulOverflows(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_mul_overflow(a, b, &r);
}
}  // namespace

Value Elaborator::scalarBinary(const ast::Expr& e, const Value& a, const Value& b) {
  using Op = ast::BinaryOp;
  const Op op = e.binaryOp;
  if (op == Op::And || op == Op::Or) {
    if (a.kind != Value::Kind::Bool || b.kind != Value::Kind::Bool) {
      error(e.loc, std::string("'") + ast::spell(op) + "' needs two bools, but got " + describeKind(a.kind) +
                       " and " + describeKind(b.kind));
      return Value::error();
    }
    return Value::boolean(op == Op::And ? a.b && b.b : a.b || b.b);
  }
  if (op == Op::Eq || op == Op::Ne) {
    bool eq;
    if (a.isScalarNumber() && b.isScalarNumber()) {
      eq = a.number() == b.number();
    } else if (a.kind == Value::Kind::Enum && b.kind == Value::Kind::Enum && a.enumType == b.enumType) {
      eq = a.i == b.i;
    } else if (a.kind == b.kind && (a.kind == Value::Kind::Bool || a.kind == Value::Kind::String)) {
      eq = a.kind == Value::Kind::Bool ? a.b == b.b : a.s == b.s;
    } else {
      error(e.loc, "cannot compare " + describeKind(a.kind) +
                       (a.enumType ? " of '" + a.enumType->name + "'" : "") + " with " + describeKind(b.kind) +
                       (b.enumType ? " of '" + b.enumType->name + "'" : ""));
      return Value::error();
    }
    return Value::boolean(op == Op::Eq ? eq : !eq);
  }
  if (!a.isScalarNumber() || !b.isScalarNumber()) {
    error(e.loc, std::string("'") + ast::spell(op) + "' needs numbers, but got " + describeKind(a.kind) + " and " +
                     describeKind(b.kind));
    return Value::error();
  }
  switch (op) {
    case Op::Lt: return Value::boolean(a.number() < b.number());
    case Op::Le: return Value::boolean(a.number() <= b.number());
    case Op::Gt: return Value::boolean(a.number() > b.number());
    case Op::Ge: return Value::boolean(a.number() >= b.number());
    default: break;
  }
  const bool ints = a.kind == Value::Kind::Int && b.kind == Value::Kind::Int;
  if (ints) {
    int64_t r = 0;
    bool overflow = false;
    switch (op) {
      case Op::Add: overflow = __builtin_add_overflow(a.i, b.i, &r); break;
      case Op::Sub: overflow = __builtin_sub_overflow(a.i, b.i, &r); break;
      case Op::Mul: overflow = mulOverflows(a.i, b.i) || __builtin_mul_overflow(a.i, b.i, &r); break;
      case Op::Div:
      case Op::Mod:
        if (b.i == 0) {
          error(e.loc, "division by zero" + (b.s.empty() ? std::string() : " ('" + b.s + "' is 0)"));
          return Value::error();
        }
        if (a.i == INT64_MIN && b.i == -1) {
          overflow = true;
          break;
        }
        if (op == Op::Mod) {
          r = a.i % b.i;
        } else if (a.i % b.i != 0) {
          // Sizes are divided exactly: 130 heads' worth of width split 4 ways is a config mistake.
          error(e.loc,
                (a.s.empty() ? std::to_string(a.i) : "'" + a.s + "' (" + std::to_string(a.i) + ")") +
                    " is not divisible by " + (b.s.empty() ? std::to_string(b.i) : "'" + b.s + "' (" + std::to_string(b.i) + ")"),
                "'/' on ints is exact division; write float(a) / b for a fraction");
          return Value::error();
        } else {
          r = a.i / b.i;
        }
        break;
      case Op::MatMul:
        error(e.loc, "'@' multiplies tensors, not numbers");
        return Value::error();
      default: break;
    }
    if (overflow) {
      error(e.loc, "integer overflow in '" + std::string(ast::spell(op)) + "'");
      return Value::error();
    }
    return Value::integer(r, joinLabel(a, ast::spell(op), b));
  }
  double x = a.number(), y = b.number(), r = 0;
  switch (op) {
    case Op::Add: r = x + y; break;
    case Op::Sub: r = x - y; break;
    case Op::Mul: r = x * y; break;
    case Op::Div:
      if (y == 0) {
        error(e.loc, "division by zero");
        return Value::error();
      }
      r = x / y;
      break;
    case Op::Mod:
      if (y == 0) {
        error(e.loc, "division by zero");
        return Value::error();
      }
      r = std::fmod(x, y);
      break;
    default:
      error(e.loc, "'@' multiplies tensors, not numbers");
      return Value::error();
  }
  if (!std::isfinite(r)) {
    error(e.loc, "arithmetic produced a non-finite value");
    return Value::error();
  }
  return Value::real(r);
}

Value Elaborator::tensorBinary(const ast::Expr& e, const Value& a0, const Value& b0) {
  using Op = ast::BinaryOp;
  const Op op = e.binaryOp;
  Value a = a0, b = b0;
  if (a.isScalarNumber()) a = constant(a.number(), e.loc);
  if (b.isScalarNumber()) b = constant(b.number(), e.loc);
  if (a.kind != Value::Kind::Tensor || b.kind != Value::Kind::Tensor) {
    error(e.loc, std::string("'") + ast::spell(op) + "' cannot combine " + describeKind(a0.kind) + " and " +
                     describeKind(b0.kind));
    return Value::error();
  }
  const TensorType& ta = typeOf(a);
  const TensorType& tb = typeOf(b);
  if (ta.dtype == DType::I32 || tb.dtype == DType::I32) {
    error(e.loc, std::string("'") + ast::spell(op) + "' on integer tensors (token ids) is not supported",
          "token ids are only read by embedding() and cross_entropy()");
    return Value::error();
  }
  Node n;
  n.loc = e.loc;
  n.inputs = {a.node, b.node};
  if (op == Op::MatMul) {
    if (ta.dims.empty() || tb.dims.size() != 2 || ta.dims.back() != tb.dims[0]) {
      error(e.loc, "'@' needs [..., k] @ [k, n], but got " + ta.str() + " @ " + tb.str());
      return Value::error();
    }
    n.op = OpKind::MatMul;
    n.type = ta;
    n.type.dtype = promote(ta.dtype, tb.dtype);
    n.type.dims.back() = tb.dims[1];
    n.type.names.back() = tb.names[1];
    return Value::tensor(addNode(std::move(n)));
  }
  switch (op) {
    case Op::Add: n.op = OpKind::Add; break;
    case Op::Sub: n.op = OpKind::Sub; break;
    case Op::Mul: n.op = OpKind::Mul; break;
    case Op::Div: n.op = OpKind::Div; break;
    default:
      error(e.loc, std::string("'") + ast::spell(op) + "' is not defined on tensors");
      return Value::error();
  }
  // Broadcasting aligns trailing dimensions; each pair must be equal or one of them 1 (or missing).
  const size_t rank = std::max(ta.dims.size(), tb.dims.size());
  TensorType out;
  out.dtype = promoteElementwise(ta.dtype, ta.dims.empty(), tb.dtype, tb.dims.empty());
  out.dims.assign(rank, 1);
  out.names.assign(rank, "");
  for (size_t i = 0; i < rank; ++i) {
    const bool hasA = i < ta.dims.size(), hasB = i < tb.dims.size();
    const int64_t da = hasA ? ta.dims[ta.dims.size() - 1 - i] : 1;
    const int64_t db = hasB ? tb.dims[tb.dims.size() - 1 - i] : 1;
    const std::string na = hasA ? ta.names[ta.dims.size() - 1 - i] : "";
    const std::string nb = hasB ? tb.names[tb.dims.size() - 1 - i] : "";
    int64_t d;
    std::string nm;
    if (da == db) {
      d = da;
      nm = na.empty() ? nb : na;
    } else if (da == 1 && hasA) {
      d = db;
      nm = nb;
    } else if (!hasA) {
      d = db;
      nm = nb;
    } else if (db == 1 || !hasB) {
      d = da;
      nm = na;
    } else {
      error(e.loc, std::string("shape mismatch in '") + ast::spell(op) + "': left is " + ta.str() + ", right is " +
                       tb.str(),
            "element-wise operands need equal dimensions (or 1 to broadcast), aligned from the right");
      return Value::error();
    }
    out.dims[rank - 1 - i] = d;
    out.names[rank - 1 - i] = nm;
  }
  n.type = out;
  return Value::tensor(addNode(std::move(n)));
}

Value Elaborator::evalBinary(const ast::Expr& e) {
  Value a = eval(*e.lhs);
  Value b = eval(*e.rhs);
  if (a.isError() || b.isError()) return Value::error();
  if (a.kind == Value::Kind::Tensor || b.kind == Value::Kind::Tensor) return tensorBinary(e, a, b);
  return scalarBinary(e, a, b);
}

// ---------------------------------------------------------------- calls

Value Elaborator::evalCall(const ast::Expr& e) {
  Value callee = eval(*e.lhs);
  if (callee.isError()) return callee;
  std::vector<Value> pos;
  std::vector<std::pair<std::string, Value>> named;
  std::vector<Loc> argLocs;
  bool bad = false;
  for (const ast::Arg& a : e.args) {
    Value v = eval(*a.value);
    bad |= v.isError();
    argLocs.push_back(a.value->loc);
    if (a.name.empty()) {
      if (!named.empty()) {
        error(a.value->loc, "positional argument after a named one");
        bad = true;
      }
      pos.push_back(std::move(v));
    } else {
      for (const auto& [n, _] : named)
        if (n == a.name) {
          error(a.nameLoc, "argument '" + a.name + "' is given twice");
          bad = true;
        }
      named.emplace_back(a.name, std::move(v));
    }
  }
  if (bad) return Value::error();
  return call(callee, e, std::move(pos), std::move(named), argLocs);
}

Value Elaborator::call(const Value& callee, const ast::Expr& at, std::vector<Value> pos,
                       std::vector<std::pair<std::string, Value>> named, const std::vector<Loc>& argLocs) {
  if (frames_.size() >= ElabLimits::kMaxCallDepth) {
    error(at.loc, "calls nest deeper than " + std::to_string(ElabLimits::kMaxCallDepth) + " levels");
    throw ElabAbort{};
  }
  if (callee.kind == Value::Kind::Module) return callModule(callee.module, at.loc, std::move(pos), std::move(named));
  if (callee.kind == Value::Kind::Callable) {
    if (!callee.fn) return callBuiltin(callee.s, at.loc, std::move(pos), std::move(named), argLocs);
    const FileScope* file = callee.module ? callee.module->scope : prog_.scopeOf(callee.fn);
    return callFunction(*callee.fn, file, callee.module, at.loc, std::move(pos), std::move(named));
  }
  error(at.loc, "this is " + describeKind(callee.kind) + ", which cannot be called");
  return Value::error();
}

Value Elaborator::callModule(ModuleInstance* m, Loc at, std::vector<Value> pos,
                             std::vector<std::pair<std::string, Value>> named) {
  if (currentStep_ >= 0 && frames_.size() == stepFrameDepth_ && graph_.steps[currentStep_].callee.empty())
    graph_.steps[currentStep_].callee = m->path;
  if (m->isStack) {
    if (pos.size() != 1 || !named.empty()) {
      error(at, "a stack is called with exactly one tensor (its items are applied in sequence)");
      return Value::error();
    }
    Value x = pos[0];
    for (ModuleInstance* item : m->items) {
      x = callModule(item, at, {x}, {});
      if (x.isError()) return x;
    }
    return x;
  }
  const ast::FnDecl* fwd = nullptr;
  for (const ast::Member& mem : m->decl->members)
    if (mem.kind == ast::MemberKind::Fn && mem.name == "forward") fwd = mem.fn.get();
  if (!fwd) {
    error(at, "module '" + m->decl->name + "' has no 'forward' function, so it cannot be called",
          "declare `fn forward(...)` in '" + m->decl->name + "' or call one of its methods");
    return Value::error();
  }
  Value out = callFunction(*fwd, m->scope, m, at, std::move(pos), std::move(named));
  if (out.isError() || !m->magicnorm) return out;
  if (!expectTensor(out, fwd->loc, "the result of a MagicNorm module")) return Value::error();
  // MagicNorm: the norm at the module's exit, applied after every step (HRM-TEXT.md §1.6, §1.10).
  Node n;
  n.op = OpKind::RmsNorm;
  n.inputs = {out.node};
  n.type = typeOf(out);
  n.scalar = m->magicEps;
  n.magicnorm = true;
  n.loc = m->magicLoc;
  return Value::tensor(addNode(std::move(n)));
}

Value Elaborator::callFunction(const ast::FnDecl& fn, const FileScope* file, ModuleInstance* self, Loc at,
                               std::vector<Value> pos, std::vector<std::pair<std::string, Value>> named) {
  for (const Frame& f : frames_)
    if (f.fn == &fn && f.self == self) {
      error(at, "recursive call of '" + fn.name + "'",
            "functions are inlined at compile time; express repetition with stack(n) or recurrence loops");
      return Value::error();
    }
  Ctx saved = ctx_;
  Scope scope;
  std::map<std::string, Value> dimVars;
  ctx_ = Ctx{self, file, &scope, &dimVars};
  // A function body starts outside any recurrence loop, whatever loop its caller is in.
  std::vector<LoopPosition> savedLoops = std::move(loops_);
  loops_.clear();
  const bool entry = frames_.empty();
  frames_.push_back(Frame{fn.name, at, &fn, self, false, Value::none()});
  if (!entry) contextNotes_.push_back({at, "in call of '" + fn.name + "'" + (self && !self->path.empty() ? " of '" + self->path + "'" : "")});
  const size_t errorsBefore = diags_.errorCount();
  Value result = Value::error();
  std::map<std::string, Value> env;
  if (bindParams(fn.params, "'" + fn.name + "'", at, std::move(pos), std::move(named), env, true)) {
    for (auto& [n, v] : env) scope.vars[n] = Var{v, false, 0, fn.loc, {}};
    ctx_.dimVars = &dimVars;
    execBlock(fn.body);
    Frame& fr = frames_.back();
    if (!fr.returned) {
      if (fn.result && diags_.errorCount() == errorsBefore)
        error(fn.loc, "function '" + fn.name + "' ends without 'return'");
      result = Value::none();
    } else {
      result = fr.result;
      if (fn.result && !result.isError()) {
        if (auto want = evalTensorType(*fn.result)) {
          if (expectTensor(result, fn.result->loc, "the result of '" + fn.name + "'")) {
            const TensorType& got = typeOf(result);
            if (got.dims != want->dims)
              error(fn.result->loc, "'" + fn.name + "' returns " + got.str() + " but declares " + want->str());
          } else {
            result = Value::error();
          }
        }
      }
    }
  }
  // A body with errors yields an invalid value, so callers do not report follow-on errors.
  if (diags_.errorCount() > errorsBefore) result = Value::error();
  if (!entry) contextNotes_.pop_back();
  frames_.pop_back();
  loops_ = std::move(savedLoops);
  ctx_ = saved;
  return result;
}

}  // namespace hrmc::dsl
