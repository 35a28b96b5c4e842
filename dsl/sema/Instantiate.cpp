// Module instantiation (members, weights, stacks, MagicNorm), model-level declarations, and the
// elaboration of the model's forward into the graph.
#include <algorithm>
#include <cmath>

#include "dsl/sema/CreditSplit.h"
#include "dsl/sema/Elaborator.h"

namespace hrmc::dsl {

bool Elaborator::conformsScalar(const Value& v, const std::string& type, Loc loc, const std::string& what, Value& out) {
  out = v;
  if (v.isError()) return false;
  if (type == "int") {
    if (v.kind == Value::Kind::Int) return true;
  } else if (type == "float") {
    if (v.kind == Value::Kind::Float) return true;
    if (v.kind == Value::Kind::Int) {
      out = Value::real(static_cast<double>(v.i));
      return true;
    }
  } else if (type == "bool") {
    if (v.kind == Value::Kind::Bool) return true;
  } else if (const EnumType* e = prog_.findEnum(*ctx_.file, type)) {
    if (v.kind == Value::Kind::Enum && v.enumType == e) return true;
    std::string values;
    for (const std::string& x : e->values) values += (values.empty() ? "" : ", ") + x;
    error(loc, what + " must be one of " + values + ", but it is " + describeKind(v.kind));
    return false;
  } else {
    error(loc, "unknown type '" + type + "'");
    return false;
  }
  error(loc, what + " must be " + (type == "int" ? "an int" : "a " + type) + ", but it is " + describeKind(v.kind));
  return false;
}

bool Elaborator::bindParams(const std::vector<ast::Param>& params, const std::string& owner, Loc at,
                            std::vector<Value> pos, std::vector<std::pair<std::string, Value>> named,
                            std::map<std::string, Value>& env, bool tensorsAllowed) {
  if (pos.size() > params.size()) {
    error(at, owner + " takes " + std::to_string(params.size()) + " argument" + (params.size() == 1 ? "" : "s") +
                  ", but " + std::to_string(pos.size()) + " were given");
    return false;
  }
  std::vector<std::optional<Value>> given(params.size());
  for (size_t i = 0; i < pos.size(); ++i) given[i] = std::move(pos[i]);
  for (auto& [n, v] : named) {
    size_t i = 0;
    while (i < params.size() && params[i].name != n) ++i;
    if (i == params.size()) {
      std::vector<std::string> names;
      for (const ast::Param& p : params) names.push_back(p.name);
      error(at, owner + " has no parameter '" + n + "'" + didYouMean(n, names));
      return false;
    }
    if (given[i]) {
      error(at, "argument '" + n + "' of " + owner + " is given twice");
      return false;
    }
    given[i] = std::move(v);
  }
  bool ok = true;
  for (size_t i = 0; i < params.size(); ++i) {
    const ast::Param& p = params[i];
    Value v;
    if (given[i]) {
      v = *given[i];
    } else if (p.defaultValue) {
      // Defaults see the parameters bound before them.
      Scope s;
      s.parent = ctx_.scope;
      for (const auto& [n, x] : env) s.vars[n] = Var{x, false, 0, p.loc, {}};
      Scope* saved = ctx_.scope;
      ctx_.scope = &s;
      v = eval(*p.defaultValue);
      ctx_.scope = saved;
    } else {
      error(at, owner + " is missing argument '" + p.name + "'");
      ok = false;
      continue;
    }
    if (v.isError()) {
      ok = false;
      continue;
    }
    if (p.type.isTensor) {
      if (!tensorsAllowed) {
        error(p.loc, "module parameters are compile-time values (int, float, bool or an enum), not tensors");
        ok = false;
        continue;
      }
      auto want = evalTensorType(p.type.tensor, /*bindDims=*/true);
      if (!want) {
        ok = false;
        continue;
      }
      if (!expectTensor(v, at, "argument '" + p.name + "' of " + owner)) {
        ok = false;
        continue;
      }
      const TensorType& got = typeOf(v);
      bool match = got.dims.size() == want->dims.size();
      for (size_t d = 0; match && d < got.dims.size(); ++d) {
        const std::string& wn = want->names[d];
        if (!wn.empty() && wn[0] == '?') {  // a dimension variable: binds to what the argument has
          std::string var = wn.substr(1);
          Value dv = got.dims[d] == kDimT ? Value{} : Value::integer(got.dims[d], var);
          if (got.dims[d] == kDimT) dv.kind = Value::Kind::DimT;
          (*ctx_.dimVars)[var] = dv;
          want->dims[d] = got.dims[d];
          want->names[d] = var;
        }
        match = want->dims[d] == got.dims[d];
      }
      if (!match) {
        error(at, "argument '" + p.name + "' of " + owner + " has type " + got.str() + ", but " + want->str() +
                      " is expected");
        ok = false;
        continue;
      }
      if (want->dtype == DType::I32 && got.dtype != DType::I32) {
        error(at, "argument '" + p.name + "' of " + owner + " must hold token ids (i32)");
        ok = false;
        continue;
      }
      env[p.name] = v;
    } else {
      Value out;
      if (!conformsScalar(v, p.type.scalar, at, "argument '" + p.name + "' of " + owner, out)) {
        ok = false;
        continue;
      }
      if (out.kind == Value::Kind::Int) out.s = p.name;
      env[p.name] = out;
    }
  }
  return ok;
}

ModuleInstance* Elaborator::instantiate(const ast::ModuleDecl& decl, ModuleInstance* parent, const std::string& name,
                                        Loc at, std::vector<Value> pos, std::vector<std::pair<std::string, Value>> named) {
  for (const ast::ModuleDecl* d : instStack_)
    if (d == &decl) {
      error(at, "module '" + decl.name + "' contains itself", "a module cannot be a member of itself, directly or indirectly");
      return nullptr;
    }
  if (++instances_ > ElabLimits::kMaxInstances) {
    error(at, "the model has more than " + std::to_string(ElabLimits::kMaxInstances) + " module instances");
    throw ElabAbort{};
  }
  auto inst = std::make_unique<ModuleInstance>();
  inst->decl = &decl;
  inst->scope = prog_.scopeOf(&decl);
  inst->path = parent && !parent->path.empty() ? parent->path + "." + name : name;
  inst->loc = at;
  ModuleInstance* m = inst.get();
  if (parent) parent->children.push_back(std::move(inst));
  else root_ = std::move(inst);

  // Arguments are already evaluated in the caller; defaults and members evaluate in the new instance.
  Ctx saved = ctx_;
  Scope scope;
  ctx_ = Ctx{m, m->scope, &scope, nullptr};
  instStack_.push_back(&decl);
  bool ok = bindParams(decl.params, "module '" + decl.name + "'", at, std::move(pos), std::move(named), m->env, false);
  const bool isRoot = m->path.empty();  // errors in the model itself need no "in module" note
  if (!isRoot) contextNotes_.push_back({at, "in module '" + decl.name + "' instantiated as '" + m->path + "'"});
  std::map<std::string, Loc> memberLocs;
  for (const ast::Member& mem : decl.members) {
    if (!ok) break;
    if (!mem.name.empty() && mem.kind != ast::MemberKind::Objective) {
      if (auto it = memberLocs.find(mem.name); it != memberLocs.end() || (m->env.count(mem.name) && mem.kind != ast::MemberKind::Fn)) {
        Diagnostic& d = error(mem.nameLoc, "'" + mem.name + "' is already declared in '" + decl.name + "'");
        if (it != memberLocs.end()) d.notes.push_back({it->second, "previous declaration is here"});
        continue;
      }
      memberLocs[mem.name] = mem.nameLoc;
    }
    switch (mem.kind) {
      case ast::MemberKind::Param:
      case ast::MemberKind::Buffer: {
        auto t = evalTensorType(mem.type);
        Value init = eval(*mem.value);
        if (!t || init.isError()) break;
        if (init.kind != Value::Kind::Init) {
          error(mem.value->loc, "a weight's initializer must be trunc_normal(std), lecun(fan_in), zeros() or ones()");
          break;
        }
        if (std::find(t->dims.begin(), t->dims.end(), kDimT) != t->dims.end()) {
          error(mem.type.loc, "a weight cannot have the token dimension T");
          break;
        }
        int64_t numel = 1;
        for (int64_t d : t->dims)
          if (__builtin_mul_overflow(numel, d, &numel) || numel > (int64_t(1) << 40)) {
            error(mem.type.loc, "weight '" + mem.name + "' has more than 2^40 elements");
            numel = -1;
            break;
          }
        if (numel < 0) break;
        Weight w;
        w.name = m->path.empty() ? mem.name : m->path + "." + mem.name;
        w.type = *t;
        w.trainable = mem.kind == ast::MemberKind::Param;
        w.init = init.init;
        w.stddev = init.f;
        w.loc = mem.nameLoc;
        Node n;
        n.op = OpKind::Weight;
        n.type = *t;
        n.name = w.name;
        n.loc = mem.nameLoc;
        w.node = addNode(std::move(n));
        m->env[mem.name] = Value::tensor(w.node);
        graph_.weights.push_back(std::move(w));
        break;
      }
      case ast::MemberKind::Submodule:
      case ast::MemberKind::Stack: {
        const ast::ModuleDecl* sub = prog_.findModule(*m->scope, mem.module);
        if (!sub || sub->isModel) {
          std::vector<std::string> mods;
          for (const auto& [n, _] : m->scope->modules) mods.push_back(n);
          for (const FileScope* d : m->scope->imports)
            for (const auto& [n, _] : d->modules) mods.push_back(n);
          error(mem.moduleLoc, sub ? "a model cannot be used as a submodule" : "unknown module '" + mem.module + "'" + didYouMean(mem.module, mods));
          break;
        }
        std::vector<Value> args;
        std::vector<std::pair<std::string, Value>> namedArgs;
        bool bad = false;
        for (const ast::Arg& a : mem.args) {
          Value v = eval(*a.value);
          bad |= v.isError();
          if (a.name.empty()) args.push_back(v);
          else namedArgs.emplace_back(a.name, v);
        }
        if (bad) break;
        if (mem.kind == ast::MemberKind::Submodule) {
          if (ModuleInstance* child = instantiate(*sub, m, mem.name, mem.moduleLoc, args, namedArgs)) {
            Value v;
            v.kind = Value::Kind::Module;
            v.module = child;
            m->env[mem.name] = v;
          }
          break;
        }
        int64_t count;
        Value cv = eval(*mem.value);
        if (cv.isError() || !expectInt(cv, mem.value->loc, "a stack's size", count)) break;
        if (count < 0 || count > 100000) {
          error(mem.value->loc, "a stack's size must be between 0 and 100000, but it is " + std::to_string(count));
          break;
        }
        auto stack = std::make_unique<ModuleInstance>();
        stack->isStack = true;
        stack->scope = m->scope;
        stack->path = m->path.empty() ? mem.name : m->path + "." + mem.name;
        stack->loc = mem.moduleLoc;
        ModuleInstance* st = stack.get();
        m->children.push_back(std::move(stack));
        for (int64_t i = 0; i < count; ++i) {
          ModuleInstance* item = instantiate(*sub, st, std::to_string(i), mem.moduleLoc, args, namedArgs);
          if (!item) break;
          st->items.push_back(item);
        }
        Value v;
        v.kind = Value::Kind::Module;
        v.module = st;
        m->env[mem.name] = v;
        break;
      }
      case ast::MemberKind::Let: {
        Value v = eval(*mem.value);
        if (v.kind == Value::Kind::Int) v.s = mem.name;
        m->env[mem.name] = v;
        break;
      }
      case ast::MemberKind::MagicNorm: {
        if (m->magicnorm) {
          error(mem.loc, "'" + decl.name + "' declares magicnorm twice");
          break;
        }
        bool on = true;
        if (mem.value) {
          Value c = eval(*mem.value);
          if (c.isError()) break;
          if (c.kind != Value::Kind::Bool) {
            error(mem.value->loc, "magicnorm's condition must be a compile-time bool");
            break;
          }
          on = c.b;
        }
        double eps = 1e-6;
        for (const ast::Arg& a : mem.args) {
          Value v = eval(*a.value);
          if (v.isError()) continue;
          if ((!a.name.empty() && a.name != "eps") || !v.isScalarNumber() || v.number() <= 0) {
            error(a.value->loc, "magicnorm takes one argument, eps, a positive number");
            continue;
          }
          eps = v.number();
        }
        m->magicnorm = on;
        m->magicEps = eps;
        m->magicLoc = mem.loc;
        break;
      }
      case ast::MemberKind::Objective:
      case ast::MemberKind::Mask:
      case ast::MemberKind::Credit:
        if (!decl.isModel) {
          error(mem.loc, "objective, mask and credit are model-level declarations", "move it into the 'model' block");
          break;
        }
        applyModelMember(mem);
        break;
      case ast::MemberKind::Fn: break;  // evaluated when called
    }
  }
  if (!isRoot) contextNotes_.pop_back();
  instStack_.pop_back();
  ctx_ = saved;
  return m;
}

void Elaborator::applyModelMember(const ast::Member& mem) {
  if (mem.kind == ast::MemberKind::Objective) {
    if (mem.name == "response_only") graph_.objective = Objective::ResponseOnly;
    else if (mem.name == "all_tokens") graph_.objective = Objective::AllTokens;
    else error(mem.nameLoc, "unknown objective '" + mem.name + "'" + didYouMean(mem.name, {"response_only", "all_tokens"}),
               "response_only trains on response tokens (HRM-TEXT.md §3.5); all_tokens on every next token");
    return;
  }
  if (mem.kind == ast::MemberKind::Mask) {
    Value v = eval(*mem.value);
    if (v.isError()) return;
    if (v.kind != Value::Kind::Enum || v.enumType != &prog_.maskEnum()) {
      error(mem.value->loc, "the mask must be prefixlm, causal or full");
      return;
    }
    graph_.mask = static_cast<MaskKind>(v.i);
    modelMaskSet_ = true;
    return;
  }
  // credit(min = .., max = .., warmup = .., split = h_first | [G, H, L])
  CreditWindow& c = graph_.credit;
  if (c.declared) {
    error(mem.loc, "the credit window is declared twice");
    return;
  }
  c.declared = true;
  c.loc = mem.loc;
  bool haveMin = false, haveMax = false;
  for (const ast::Arg& a : mem.args) {
    if (a.name == "split" && a.value->kind == ast::ExprKind::List) {
      creditSplitOrder(*a.value);
      continue;
    }
    Value v = eval(*a.value);
    if (v.isError()) continue;
    if (a.name == "min" || a.name == "max") {
      int64_t k;
      if (!expectInt(v, a.value->loc, "credit " + a.name, k)) continue;
      if (k < 1 || k > 1000) {
        error(a.value->loc, "credit " + a.name + " must be between 1 and 1000, but it is " + std::to_string(k));
        continue;
      }
      (a.name == "min" ? c.minSteps : c.maxSteps) = static_cast<int>(k);
      (a.name == "min" ? haveMin : haveMax) = true;
    } else if (a.name == "warmup") {
      if (!v.isScalarNumber() || v.number() < 0 || v.number() > 1) {
        error(a.value->loc, "credit warmup is the fraction of training over which K ramps up: a number in [0, 1]");
        continue;
      }
      c.warmupRatio = v.number();
    } else if (a.name == "split") {
      if (v.kind != Value::Kind::Enum || v.enumType->name != "Split")
        error(a.value->loc, "credit split must be h_first or a list of levels in split order",
              "h_first lets the outermost level take its share first (HRM-TEXT.md §2); e.g. split = [G, H, L]");
    } else {
      error(a.value->loc, a.name.empty() ? "credit arguments are named: credit(min = 2, max = 5, warmup = 0.2)"
                                         : "credit has no argument '" + a.name + "'" + didYouMean(a.name, {"min", "max", "warmup", "split"}));
    }
  }
  if (!haveMin || !haveMax) {
    error(mem.loc, "credit needs both min and max", "e.g. credit(min = 2, max = 5, warmup = 0.2, split = h_first)");
    c.declared = false;
  } else if (c.minSteps > c.maxSteps) {
    error(mem.loc, "credit min (" + std::to_string(c.minSteps) + ") is larger than max (" + std::to_string(c.maxSteps) + ")");
  }
}

std::optional<ModelGraph> Elaborator::elaborateModel() {
  const FileScope* root = prog_.root();
  const ast::ModuleDecl* model = nullptr;
  for (const ast::ModuleDecl& m : root->file->modules)
    if (m.isModel) {
      if (model) {
        Diagnostic& d = error(m.loc, "a file declares at most one model");
        d.notes.push_back({model->loc, "the first model is here"});
        return std::nullopt;
      }
      model = &m;
    }
  if (!model) return std::nullopt;
  graph_ = ModelGraph{};
  graph_.name = model->name;
  graph_.loc = model->loc;
  try {
    // Model-level declarations first: the mask must be known before any attention is elaborated.
    ModuleInstance* m = instantiate(*model, nullptr, "", model->loc, {}, {});
    if (!m || diags_.hasErrors()) return std::nullopt;
    const ast::FnDecl* fwd = nullptr;
    for (const ast::Member& mem : model->members)
      if (mem.kind == ast::MemberKind::Fn && mem.name == "forward") fwd = mem.fn.get();
    if (!fwd) {
      error(model->loc, "model '" + model->name + "' has no 'forward' function",
            "declare `fn forward(tokens: [T] i32) -> [T, vocab] { ... }`");
      return std::nullopt;
    }
    // The entry point's parameters become the graph's inputs.
    std::vector<Value> inputs;
    ctx_ = Ctx{m, m->scope, nullptr, nullptr};
    for (const ast::Param& p : fwd->params) {
      if (!p.type.isTensor) {
        error(p.loc, "the model's forward takes tensors only");
        return std::nullopt;
      }
      auto t = evalTensorType(p.type.tensor);
      if (!t) return std::nullopt;
      Node n;
      n.op = OpKind::Input;
      n.type = *t;
      n.name = p.name;
      n.loc = p.loc;
      int id = addNode(std::move(n));
      graph_.inputs.push_back(id);
      inputs.push_back(Value::tensor(id));
    }
    Value out = callFunction(*fwd, m->scope, m, fwd->loc, inputs, {});
    if (diags_.hasErrors()) return std::nullopt;
    if (!expectTensor(out, fwd->loc, "the model's forward result")) return std::nullopt;
    graph_.output = out.node;
    // A weight the forward never reads still takes memory, an optimizer state and a checkpoint entry.
    std::vector<bool> used(graph_.nodes.size(), false);
    used[graph_.output] = true;
    for (size_t i = graph_.nodes.size(); i-- > 0;)  // inputs come before the nodes that read them
      if (used[i])
        for (int in : graph_.nodes[i].inputs) used[in] = true;
    for (const Weight& w : graph_.weights)
      if (!used[w.node])
        diags_.warning(w.loc, "weight '" + w.name + "' is never used by the forward",
                       "it still takes memory and a checkpoint entry: use it, or remove the member");
    finishRecurrence();
    checkCreditWindow();
    if (diags_.hasErrors()) return std::nullopt;
    return std::move(graph_);
  } catch (const ElabAbort&) {
    return std::nullopt;
  }
}

void Elaborator::creditSplitOrder(const ast::Expr& list) {
  CreditWindow& c = graph_.credit;
  c.splitLoc = list.loc;
  for (const ast::ExprPtr& e : list.elems) {
    if (e->kind != ast::ExprKind::Name) {
      error(e->loc, "a credit split lists level names", "e.g. split = [G, H, L]: the slow loop's level is H, the fast loop's L");
      c.split.clear();
      return;
    }
    if (std::find(c.split.begin(), c.split.end(), e->text) != c.split.end()) {
      error(e->loc, "level '" + e->text + "' is listed twice in the credit split", "list every level once, in the order they take their share");
      c.split.clear();
      return;
    }
    c.split.push_back(e->text);
  }
  if (c.split.empty()) error(list.loc, "the credit split lists no levels", "e.g. split = [H, L]");
}

void Elaborator::finishRecurrence() {
  // Levels outermost first: by nesting depth, then by first appearance.
  graph_.levels = levelOrder_;
  std::stable_sort(graph_.levels.begin(), graph_.levels.end(), [&](const std::string& a, const std::string& b) {
    return levelDepth_.at(a).first < levelDepth_.at(b).first;
  });
  // An update outside every loop belongs to the outermost level (H when there is no loop at all).
  std::map<std::string, int> count;
  for (Step& st : graph_.steps) {
    if (st.level.empty()) {
      st.level = graph_.levels.empty() ? "H" : graph_.levels.front();
      if (graph_.levels.empty()) graph_.levels.push_back(st.level);
    }
    st.levelIndex = count[st.level]++;
  }
}

void Elaborator::checkCreditWindow() {
  const CreditWindow& c = graph_.credit;
  if (!c.declared) return;
  if (graph_.steps.empty()) {
    error(c.loc, "a credit window is declared, but the model has no recurrent steps",
          "declare state with `state z = ...;` and update it in recurrence loops");
    return;
  }
  if (!c.split.empty()) {
    std::string missing;
    for (const std::string& level : graph_.levels)
      if (std::find(c.split.begin(), c.split.end(), level) == c.split.end()) missing += (missing.empty() ? "" : ", ") + level;
    for (const std::string& level : c.split)
      if (std::find(graph_.levels.begin(), graph_.levels.end(), level) == graph_.levels.end()) {
        error(c.splitLoc, "the credit split names level '" + level + "', which the recurrence does not have" +
                              didYouMean(level, graph_.levels),
              "the levels are " + spellSplitOrder(graph_.levels));
        return;
      }
    if (!missing.empty()) {
      error(c.splitLoc, "the credit split leaves out level" + std::string(missing.find(',') == std::string::npos ? " " : "s ") +
                            missing, "list every level once: split = [" + spellSplitOrder(graph_.levels) + "]");
      return;
    }
  }
  const CreditSplit split = creditSplit(c.maxSteps, graph_.splitOrder(), graph_.stepLevels());
  if (!split.ok())
    error(c.loc, "credit max is " + std::to_string(c.maxSteps) + ", but the recurrence has only " +
                     std::to_string(graph_.steps.size()) + " steps");
}

void Elaborator::checkDeclarations() {
  for (const auto& scope : prog_.scopes()) {
    ctx_ = Ctx{nullptr, scope.get(), nullptr, nullptr};
    for (const ast::ModuleDecl& m : scope->file->modules) {
      for (const ast::Param& p : m.params)
        if (!p.type.isTensor && p.type.scalar != "int" && p.type.scalar != "float" && p.type.scalar != "bool" &&
            !prog_.findEnum(*scope, p.type.scalar))
          error(p.type.loc, "unknown type '" + p.type.scalar + "'", "parameter types are int, float, bool or an enum name");
      for (const ast::Member& mem : m.members)
        if ((mem.kind == ast::MemberKind::Submodule || mem.kind == ast::MemberKind::Stack) &&
            !prog_.findModule(*scope, mem.module)) {
          std::vector<std::string> names = prog_.visibleNames(*scope);
          error(mem.moduleLoc, "unknown module '" + mem.module + "'" + didYouMean(mem.module, names));
        }
    }
  }
}

}  // namespace hrmc::dsl
