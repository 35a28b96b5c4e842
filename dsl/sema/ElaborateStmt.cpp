// Statements: bindings, state, returns, compile-time `if`, and the recurrence loops (slow, fast and
// named levels of any depth).
#include "dsl/sema/Elaborator.h"

namespace hrmc::dsl {

void Elaborator::execBlock(const ast::Block& b) {
  Scope inner;
  inner.parent = ctx_.scope;
  Scope* saved = ctx_.scope;
  ctx_.scope = &inner;
  for (size_t i = 0; i < b.stmts.size(); ++i) {
    if (i > 0 && b.stmts[i - 1]->kind == ast::StmtKind::Return) {
      error(b.stmts[i]->loc, "unreachable statement after 'return'");
      break;
    }
    if (frames_.back().returned) break;  // a compile-time branch returned
    exec(*b.stmts[i]);
  }
  ctx_.scope = saved;
}

Value Elaborator::coerceToType(const Value& v, const TensorType& want, bool dtypeWritten, Loc loc, const std::string& what) {
  Value t = v;
  if (t.isScalarNumber()) t = constant(t.number(), loc);
  if (!expectTensor(t, loc, what)) return Value::error();
  const TensorType& got = typeOf(t);
  // A written dtype is a promise about the value: hrmc has no implicit casts, so a different one is
  // an error rather than a declaration that is silently ignored.
  if (dtypeWritten && got.dtype != want.dtype) {
    error(loc, what + " is " + spell(got.dtype) + ", but it is declared " + spell(want.dtype),
          std::string("convert it with cast(x, ") + spell(want.dtype) + "), or leave the dtype out to take the value's");
    return Value::error();
  }
  if (got.dims == want.dims) return t;
  // A declared type may broadcast the value (a [hidden] state start broadcast over [T, hidden]).
  bool ok = got.dims.size() <= want.dims.size();
  for (size_t i = 0; ok && i < got.dims.size(); ++i) {
    int64_t g = got.dims[got.dims.size() - 1 - i], w = want.dims[want.dims.size() - 1 - i];
    ok = g == w || g == 1;
  }
  if (!ok) {
    error(loc, what + " has type " + got.str() + ", which does not fit the declared " + want.str());
    return Value::error();
  }
  return broadcastTo(t, want, loc);
}

void Elaborator::exec(const ast::Stmt& s) {
  switch (s.kind) {
    case ast::StmtKind::State: {
      if (!loops_.empty()) {
        error(s.loc, "state '" + s.names[0] + "' must be declared before the recurrence loops",
              "move `state " + s.names[0] + " = ...;` above the recurrence loops");
        return;
      }
      if (findVar(s.names[0])) {
        error(s.nameLocs[0], "'" + s.names[0] + "' is already declared");
        return;
      }
      Value v = eval(*s.value);
      std::optional<DType> declared;
      if (!v.isError() && s.type) {
        if (auto t = evalTensorType(*s.type)) {
          v = coerceToType(v, *t, !s.type->dtype.empty(), s.value->loc, "the start of state '" + s.names[0] + "'");
          if (!s.type->dtype.empty()) declared = t->dtype;
        }
      } else if (!v.isError()) {
        if (!expectTensor(v, s.value->loc, "a state")) v = Value::error();
      }
      ctx_.scope->vars[s.names[0]] = Var{v, true, static_cast<int>(loops_.size()), s.nameLocs[0], declared};
      return;
    }
    case ast::StmtKind::Assign: execAssign(s); return;
    case ast::StmtKind::Destructure: {
      Value v = eval(*s.value);
      if (v.isError()) {
        for (const std::string& n : s.names) ctx_.scope->vars[n] = Var{Value::error(), false, static_cast<int>(loops_.size()), s.loc, {}};
        return;
      }
      if (v.kind != Value::Kind::Tuple || v.elems.size() != s.names.size()) {
        error(s.value->loc, "cannot unpack " + (v.kind == Value::Kind::Tuple ? std::to_string(v.elems.size()) + " values" : describeKind(v.kind)) +
                                " into " + std::to_string(s.names.size()) + " names");
        v = Value::error();
      }
      for (size_t i = 0; i < s.names.size(); ++i) {
        if (Var* existing = findVar(s.names[i]); existing && existing->isState) {
          error(s.nameLocs[i], "state '" + s.names[i] + "' is updated by a plain assignment only",
                "write `" + s.names[i] + " = ...;`");
          continue;
        }
        ctx_.scope->vars[s.names[i]] =
            Var{v.isError() ? v : v.elems[i], false, static_cast<int>(loops_.size()), s.nameLocs[i], {}};
      }
      return;
    }
    case ast::StmtKind::Return: {
      if (!loops_.empty()) {
        error(s.loc, "'return' inside a recurrence loop", "return after the loops end");
        return;
      }
      Value v = eval(*s.value);  // may push frames: take the reference afterwards
      frames_.back().result = std::move(v);
      frames_.back().returned = true;
      return;
    }
    case ast::StmtKind::Loop: execLoop(s); return;
    case ast::StmtKind::If: {
      Value c = eval(*s.value);
      if (c.isError()) return;
      if (c.kind != Value::Kind::Bool) {
        error(s.value->loc, "an 'if' condition must be a compile-time bool, but it is " + describeKind(c.kind),
              c.kind == Value::Kind::Tensor ? "branches are chosen at compile time from config values" : "");
        return;
      }
      if (c.b) {
        execBlock(s.body);
      } else if (s.elseBody) {
        execBlock(*s.elseBody);
      }
      return;
    }
  }
}

void Elaborator::execAssign(const ast::Stmt& s) {
  const std::string& name = s.names[0];
  Var* var = findVar(name);
  if (var && !var->isState && static_cast<int>(loops_.size()) > var->loopDepth) {
    error(s.nameLocs[0], "'" + name + "' is assigned inside a loop but is not recurrent state",
          "declare it before the loop with `state " + name + " = ...;`");
    return;
  }
  const bool isStep = var && var->isState;
  const int savedStep = currentStep_;
  const size_t savedDepth = stepFrameDepth_;
  if (isStep) {
    Step st;
    // A step belongs to its innermost loop's level; an update outside every loop to the outermost
    // level, which is only known once the forward is elaborated (finishRecurrence fills it in and
    // counts each level's steps).
    if (!loops_.empty()) st.level = loops_.back().level;
    st.loops = loops_;
    st.state = name;
    st.loc = s.loc;
    graph_.steps.push_back(st);
    currentStep_ = static_cast<int>(graph_.steps.size() - 1);
    stepFrameDepth_ = frames_.size();
  }
  Value v = eval(*s.value);
  if (isStep && v.kind == Value::Kind::Tensor) {
    graph_.steps[currentStep_].result = v.node;
    // MagicNorm's point (HRM-TEXT.md §1.10): a state that leaves a step unnormalised can grow with
    // every step of the recurrence.
    if (graph_.nodes[v.node].op != OpKind::RmsNorm)
      diags_.warning(s.value->loc, "state '" + name + "' is not normalized at the end of this step",
                     "a recurrent state stays bounded when every step ends in an RMSNorm: add `magicnorm;` to "
                     "the module or end the update with rms_norm (MagicNorm, HRM-TEXT.md §1.10)");
  }
  currentStep_ = savedStep;
  stepFrameDepth_ = savedDepth;
  if (!v.isError() && s.type) {
    if (auto t = evalTensorType(*s.type)) v = coerceToType(v, *t, !s.type->dtype.empty(), s.value->loc, "'" + name + "'");
  }
  if (isStep && !v.isError() && !var->value.isError()) {
    if (!expectTensor(v, s.value->loc, "the new value of state '" + name + "'")) return;
    const TensorType& before = typeOf(var->value);
    const TensorType& after = typeOf(v);
    if (before.dims != after.dims) {
      Diagnostic& d = error(s.value->loc, "state '" + name + "' changes type from " + before.str() + " to " + after.str(),
                            "a recurrent state keeps its shape across steps");
      d.notes.push_back({var->loc, "'" + name + "' is declared here"});
      return;
    }
    // A declared dtype holds for every step; hrmc converts only where `cast` says so.
    if (var->dtype && after.dtype != *var->dtype) {
      Diagnostic& d = error(s.value->loc, std::string("state '") + name + "' is declared " + spell(*var->dtype) +
                                              ", but this step makes it " + spell(after.dtype),
                            std::string("convert the new value: `") + name + " = cast(..., " + spell(*var->dtype) + ");`");
      d.notes.push_back({var->loc, "'" + name + "' is declared here"});
      return;
    }
  }
  if (var) {
    var->value = v;
  } else {
    ctx_.scope->vars[name] = Var{v, false, static_cast<int>(loops_.size()), s.nameLocs[0], {}};
  }
}

void Elaborator::checkNestedLoopCounts(const ast::Block& b) {
  for (const auto& st : b.stmts) {
    if (st->kind == ast::StmtKind::Loop) {
      const Value n = eval(*st->value);
      if (n.kind == Value::Kind::Int && (n.i < 0 || n.i > ElabLimits::kMaxLoopCount))
        error(st->value->loc, "the " + loopWord(*st) + " count is " + std::to_string(n.i) + "; it must be between 0 and " +
                                  std::to_string(ElabLimits::kMaxLoopCount));
      checkNestedLoopCounts(st->body);
    } else if (st->kind == ast::StmtKind::If) {
      checkNestedLoopCounts(st->body);
      if (st->elseBody) checkNestedLoopCounts(*st->elseBody);
    }
  }
}

std::string Elaborator::loopWord(const ast::Stmt& s) {
  switch (s.spelling) {
    case ast::LoopSpelling::Slow: return "slow loop";
    case ast::LoopSpelling::Fast: return "fast loop";
    case ast::LoopSpelling::Named: break;
  }
  return "level " + s.level + " loop";
}

bool Elaborator::checkLoopNesting(const ast::Stmt& s) {
  // The two-level spelling keeps its meaning: one slow (H) loop outermost, fast (L) loops inside it.
  if (s.spelling == ast::LoopSpelling::Slow && !loops_.empty()) {
    error(s.loc, "a slow loop must be the outermost recurrence loop",
          "for a deeper hierarchy name the levels: `level G(g_cycles) { level H(h_cycles) { level L(l_cycles) { ... } ... } ... }`");
    return false;
  }
  for (const LoopPosition& outer : loops_)
    if (outer.level == s.level) {
      if (s.spelling == ast::LoopSpelling::Fast)
        error(s.loc, "fast loops cannot be nested", "put the fast loop directly inside the slow loop");
      else
        error(s.levelLoc, "level '" + s.level + "' is nested inside itself",
              "each level of the hierarchy has its own name: `level G(..) { level H(..) { ... } }`");
      return false;
    }
  // A level sits at one depth, so its steps count as one sequence and its place in the split is clear.
  const size_t depth = loops_.size();
  auto [it, first] = levelDepth_.try_emplace(s.level, depth, s.levelLoc);
  if (!first && it->second.first != depth) {
    auto where = [](size_t n) {
      return n == 0 ? std::string("outside every other loop") : "inside " + std::to_string(n) + (n == 1 ? " loop" : " loops");
    };
    Diagnostic& d = error(s.levelLoc, "level '" + s.level + "' stands " + where(depth) + " here but " +
                                          where(it->second.first) + " before",
                          "a level keeps its place in the hierarchy: give this loop its own level name");
    d.notes.push_back({it->second.second, "'" + s.level + "' first appears here"});
    return false;
  }
  if (first) levelOrder_.push_back(s.level);
  return true;
}

void Elaborator::execLoop(const ast::Stmt& s) {
  if (!checkLoopNesting(s)) return;
  const std::string what = loopWord(s);
  Value n = eval(*s.value);
  int64_t count = 0;
  if (n.isError()) return;
  if (n.kind != Value::Kind::Int) {
    error(s.value->loc, "the " + what + " count must be a compile-time int, but it is " + describeKind(n.kind),
          "loop counts come from the config (e.g. h_cycles)");
    return;
  }
  count = n.i;
  if (count < 0 || count > ElabLimits::kMaxLoopCount) {
    error(s.value->loc, "the " + what + " count is " + std::to_string(count) + "; it must be between 0 and " +
                            std::to_string(ElabLimits::kMaxLoopCount));
    return;
  }
  if (count == 0) {
    diags_.warning(s.value->loc, "this " + what + " runs 0 times: its body never runs",
                   "a recurrence loop count comes from the config; 0 removes the loop's steps");
    checkNestedLoopCounts(s.body);  // a body that never runs still gets its loop counts checked
  }
  loops_.push_back(LoopPosition{s.level, 0});
  for (int64_t i = 0; i < count && !frames_.back().returned; ++i) {
    loops_.back().iter = static_cast<int>(i);
    size_t errorsBefore = diags_.errorCount();
    execBlock(s.body);
    if (diags_.errorCount() > errorsBefore) break;  // the same error would repeat every iteration
  }
  loops_.pop_back();
}

}  // namespace hrmc::dsl
