#include "dsl/parse/ParseFile.h"

#include <cerrno>
#include <cstdlib>

#include "HrmLexer.h"
#include "HrmParser.h"
#include "antlr4-runtime.h"

namespace hrmc::dsl {

namespace {

using P = HrmParser;

Loc locOf(uint32_t file, antlr4::Token* t) {
  Loc l;
  l.file = file;
  l.line = static_cast<uint32_t>(t->getLine());
  l.col = static_cast<uint32_t>(t->getCharPositionInLine()) + 1;
  size_t len = t->getStopIndex() >= t->getStartIndex() ? t->getStopIndex() - t->getStartIndex() + 1 : 1;
  l.len = static_cast<uint32_t>(len);
  return l;
}

// A span from the first to the last token of a rule (clipped to the first line for carets).
Loc locOf(uint32_t file, antlr4::ParserRuleContext* ctx) {
  Loc l = locOf(file, ctx->getStart());
  antlr4::Token* stop = ctx->getStop();
  if (stop && stop->getLine() == ctx->getStart()->getLine() &&
      stop->getStopIndex() >= ctx->getStart()->getStartIndex())
    l.len = static_cast<uint32_t>(stop->getStopIndex() - ctx->getStart()->getStartIndex() + 1);
  return l;
}

std::string describeToken(antlr4::Token* t) {
  if (!t || t->getType() == antlr4::Token::EOF) return "end of file";
  std::string s = t->getText();
  if (s.size() > 24) s = s.substr(0, 21) + "...";
  return "'" + s + "'";
}

// Turns ANTLR's messages into ours: "unexpected X; expected Y" with short expectation lists.
class ErrorListener : public antlr4::BaseErrorListener {
 public:
  ErrorListener(uint32_t file, DiagEngine& diags) : file_(file), diags_(diags) {}

  void syntaxError(antlr4::Recognizer* recognizer, antlr4::Token* offending, size_t line, size_t col,
                   const std::string& msg, std::exception_ptr) override {
    if (diags_.tooManyErrors()) return;
    Loc loc;
    if (offending) {
      loc = locOf(file_, offending);
    } else {
      loc = {file_, static_cast<uint32_t>(line), static_cast<uint32_t>(col) + 1, 1};
    }
    std::string text;
    std::string hint;
    std::string expecting;
    if (size_t p = msg.find(" expecting "); p != std::string::npos) {
      expecting = msg.substr(p + 11);
      if (std::count(expecting.begin(), expecting.end(), ',') > 5) expecting.clear();
    }
    if (offending && offending->getType() == HrmLexer::BAD_CHAR) {
      text = "unexpected character " + describeToken(offending);
      if (offending->getText() == "\"") hint = "string literals end on the same line";
    } else if (msg.rfind("missing ", 0) == 0) {
      std::string what = msg.substr(8, msg.find(" at ") - 8);
      text = "expected " + what + " before " + describeToken(offending);
    } else if (offending) {
      text = "unexpected " + describeToken(offending);
      if (!expecting.empty()) text += "; expected " + expecting;
    } else {
      text = "syntax error: " + msg;
    }
    if (hint.empty() && offending && offending->getText() == "(" && offending->getTokenIndex() > 0)
      if (auto* tokens = dynamic_cast<antlr4::TokenStream*>(recognizer->getInputStream());
          tokens && tokens->get(offending->getTokenIndex() - 1)->getText() == "level")
        hint = "a level loop names its level: `level G(g_cycles) { ... }`";
    if (hint.empty() && offending && offending->getType() == antlr4::Token::EOF)
      hint = "the file ends early: is a '}' or ';' missing?";
    diags_.error(loc, text, hint);
  }

 private:
  uint32_t file_;
  DiagEngine& diags_;
};

// Rejects token streams whose nesting would drive the recursive-descent parser too deep.
bool checkNesting(antlr4::CommonTokenStream& tokens, uint32_t file, DiagEngine& diags) {
  int depth = 0;
  int chain = 0;
  int unaryRun = 0;
  for (antlr4::Token* t : tokens.getTokens()) {
    std::string s = t->getText();
    bool isUnary = s == "-" || s == "!";
    unaryRun = isUnary ? unaryRun + 1 : 0;
    if (s == "(" || s == "[" || s == "{") ++depth;
    if (s == ")" || s == "]" || s == "}") depth = std::max(0, depth - 1);
    if (s == "?") ++chain;
    if (s == ";" || s == "{" || s == "}") chain = 0;
    if (depth > ParseLimits::kMaxBracketDepth || chain > ParseLimits::kMaxChainPerStatement ||
        unaryRun > ParseLimits::kMaxChainPerStatement) {
      diags.error(locOf(file, t), "nesting is too deep for a model description",
                  "brackets nest at most " + std::to_string(ParseLimits::kMaxBracketDepth) +
                      " levels; conditional and unary-operator chains are limited to " +
                      std::to_string(ParseLimits::kMaxChainPerStatement));
      return false;
    }
  }
  return true;
}

class AstBuilder {
 public:
  AstBuilder(uint32_t file, DiagEngine& diags) : file_(file), diags_(diags) {}

  std::unique_ptr<ast::File> build(P::FileContext* ctx) {
    auto f = std::make_unique<ast::File>();
    f->fileId = file_;
    for (P::DeclContext* d : ctx->decl()) {
      if (auto* c = d->importDecl()) {
        f->imports.push_back({unquote(c->STRING()->getSymbol()), locOf(file_, c->STRING()->getSymbol())});
      } else if (auto* c = d->enumDecl()) {
        f->enums.push_back(enumDecl(c));
      } else if (auto* c = d->configDecl()) {
        f->configLocs.push_back(locOf(file_, c->getStart()));
        for (P::ConfigEntryContext* e : c->configEntry()) f->config.push_back(configEntry(e));
      } else if (auto* c = d->presetDecl()) {
        f->presets.push_back(presetDecl(c));
      } else if (auto* c = d->moduleDecl()) {
        f->modules.push_back(moduleDecl(c->doc(), c->ident(), c->paramList(), c->member(), false));
      } else if (auto* c = d->modelDecl()) {
        f->modules.push_back(moduleDecl(c->doc(), c->ident(), nullptr, c->member(), true));
      } else if (auto* c = d->fnDecl()) {
        f->fns.push_back(fnDecl(c));
      }
    }
    return f;
  }

 private:
  std::string unquote(antlr4::Token* t) {
    std::string s = t->getText();
    std::string out;
    for (size_t i = 1; i + 1 < s.size(); ++i) {
      if (s[i] == '\\' && i + 2 < s.size()) {
        char c = s[++i];
        out += c == 'n' ? '\n' : c == 't' ? '\t' : c;
      } else {
        out += s[i];
      }
    }
    return out;
  }
  std::string doc(P::DocContext* d) {
    std::string out;
    if (d)
      for (antlr4::tree::TerminalNode* s : d->STRING()) out += (out.empty() ? "" : "\n") + unquote(s->getSymbol());
    return out;
  }
  std::string name(P::IdentContext* id) { return id ? id->getText() : std::string(); }
  Loc loc(P::IdentContext* id) { return id ? locOf(file_, id->getStart()) : Loc{}; }

  ast::EnumDecl enumDecl(P::EnumDeclContext* c) {
    ast::EnumDecl e;
    auto ids = c->ident();
    e.name = name(ids[0]);
    e.loc = loc(ids[0]);
    e.doc = doc(c->doc());
    for (size_t i = 1; i < ids.size(); ++i) {
      e.values.push_back(name(ids[i]));
      e.valueLocs.push_back(loc(ids[i]));
    }
    return e;
  }

  ast::ConfigEntry configEntry(P::ConfigEntryContext* c) {
    ast::ConfigEntry e;
    e.name = name(c->ident());
    e.loc = loc(c->ident());
    e.type = c->scalarType()->getText();
    e.typeLoc = locOf(file_, c->scalarType());
    e.value = expr(c->expr());
    e.doc = doc(c->doc());
    return e;
  }

  ast::PresetDecl presetDecl(P::PresetDeclContext* c) {
    ast::PresetDecl p;
    p.name = name(c->ident());
    p.loc = loc(c->ident());
    p.doc = doc(c->doc());
    for (P::AssignmentContext* a : c->assignment())
      p.assignments.push_back({name(a->ident()), loc(a->ident()), expr(a->expr())});
    return p;
  }

  ast::Param param(P::ParamContext* c) {
    ast::Param p;
    p.name = name(c->ident());
    p.loc = loc(c->ident());
    P::ParamTypeContext* t = c->paramType();
    p.type.loc = locOf(file_, t);
    if (t && t->tensorType()) {
      p.type.isTensor = true;
      p.type.tensor = tensorType(t->tensorType());
    } else if (t && t->scalarType()) {
      p.type.scalar = t->scalarType()->getText();
    }
    if (c->expr()) p.defaultValue = expr(c->expr());
    return p;
  }

  std::vector<ast::Param> params(P::ParamListContext* c) {
    std::vector<ast::Param> out;
    if (c)
      for (P::ParamContext* p : c->param()) out.push_back(param(p));
    return out;
  }

  ast::TensorType tensorType(P::TensorTypeContext* c) {
    ast::TensorType t;
    if (!c) return t;
    t.loc = locOf(file_, c);
    for (P::DimContext* d : c->dim()) t.dims.push_back(expr(d->expr()));
    if (c->ident()) {
      t.dtype = name(c->ident());
      t.dtypeLoc = loc(c->ident());
    }
    return t;
  }

  std::vector<ast::Arg> args(P::CallArgsContext* c) {
    std::vector<ast::Arg> out;
    if (!c) return out;
    for (P::ArgContext* a : c->arg()) {
      ast::Arg arg;
      if (a->ident()) {
        arg.name = name(a->ident());
        arg.nameLoc = loc(a->ident());
      }
      arg.value = expr(a->expr());
      out.push_back(std::move(arg));
    }
    return out;
  }

  ast::ModuleDecl moduleDecl(P::DocContext* d, P::IdentContext* id, P::ParamListContext* pl,
                             const std::vector<P::MemberContext*>& members, bool isModel) {
    ast::ModuleDecl m;
    m.name = name(id);
    m.loc = loc(id);
    m.doc = doc(d);
    m.isModel = isModel;
    m.params = params(pl);
    for (P::MemberContext* mc : members) m.members.push_back(member(mc));
    return m;
  }

  ast::Member member(P::MemberContext* c) {
    ast::Member m;
    m.loc = locOf(file_, c->getStart());
    if (auto* x = dynamic_cast<P::ParamMemberContext*>(c)) {
      m.kind = ast::MemberKind::Param;
      m.doc = doc(x->doc());
      m.name = name(x->ident());
      m.nameLoc = loc(x->ident());
      m.type = tensorType(x->tensorType());
      m.value = expr(x->expr());
    } else if (auto* x = dynamic_cast<P::BufferMemberContext*>(c)) {
      m.kind = ast::MemberKind::Buffer;
      m.doc = doc(x->doc());
      m.name = name(x->ident());
      m.nameLoc = loc(x->ident());
      m.type = tensorType(x->tensorType());
      m.value = expr(x->expr());
    } else if (auto* x = dynamic_cast<P::StackMemberContext*>(c)) {
      m.kind = ast::MemberKind::Stack;
      m.doc = doc(x->doc());
      m.name = name(x->ident());
      m.nameLoc = loc(x->ident());
      m.value = expr(x->expr());
      m.module = name(x->moduleRef()->ident());
      m.moduleLoc = loc(x->moduleRef()->ident());
      m.args = args(x->moduleRef()->callArgs());
    } else if (auto* x = dynamic_cast<P::SubmoduleMemberContext*>(c)) {
      m.kind = ast::MemberKind::Submodule;
      m.doc = doc(x->doc());
      m.name = name(x->ident());
      m.nameLoc = loc(x->ident());
      m.module = name(x->moduleRef()->ident());
      m.moduleLoc = loc(x->moduleRef()->ident());
      m.args = args(x->moduleRef()->callArgs());
    } else if (auto* x = dynamic_cast<P::LetMemberContext*>(c)) {
      m.kind = ast::MemberKind::Let;
      m.name = name(x->ident());
      m.nameLoc = loc(x->ident());
      m.value = expr(x->expr());
    } else if (auto* x = dynamic_cast<P::MagicnormMemberContext*>(c)) {
      m.kind = ast::MemberKind::MagicNorm;
      m.args = args(x->callArgs());
      if (x->expr()) m.value = expr(x->expr());
    } else if (auto* x = dynamic_cast<P::ObjectiveMemberContext*>(c)) {
      m.kind = ast::MemberKind::Objective;
      m.name = name(x->ident());
      m.nameLoc = loc(x->ident());
    } else if (auto* x = dynamic_cast<P::MaskMemberContext*>(c)) {
      m.kind = ast::MemberKind::Mask;
      m.value = expr(x->expr());
    } else if (auto* x = dynamic_cast<P::CreditMemberContext*>(c)) {
      m.kind = ast::MemberKind::Credit;
      m.args = args(x->callArgs());
    } else if (auto* x = dynamic_cast<P::FnMemberContext*>(c)) {
      m.kind = ast::MemberKind::Fn;
      m.fn = std::make_unique<ast::FnDecl>(fnDecl(x->fnDecl()));
      m.name = m.fn->name;
      m.nameLoc = m.fn->loc;
    }
    return m;
  }

  ast::FnDecl fnDecl(P::FnDeclContext* c) {
    ast::FnDecl f;
    f.name = name(c->ident());
    f.loc = loc(c->ident());
    f.doc = doc(c->doc());
    f.params = params(c->paramList());
    if (c->tensorType()) f.result = tensorType(c->tensorType());
    f.body = block(c->block());
    return f;
  }

  ast::Block block(P::BlockContext* c) {
    ast::Block b;
    if (!c) return b;
    b.loc = locOf(file_, c->getStart());
    for (P::StmtContext* s : c->stmt()) b.stmts.push_back(stmt(s));
    return b;
  }

  ast::StmtPtr ifChain(antlr4::ParserRuleContext* at, P::ExprContext* cond, P::BlockContext* then,
                       P::BlockContext* elseBlock, P::IfStmtTailContext* elseIf) {
    auto s = std::make_unique<ast::Stmt>();
    s->kind = ast::StmtKind::If;
    s->loc = locOf(file_, at->getStart());
    s->value = expr(cond);
    s->body = block(then);
    if (elseBlock) {
      s->elseBody = block(elseBlock);
    } else if (elseIf) {
      ast::Block b;
      b.loc = locOf(file_, elseIf->getStart());
      b.stmts.push_back(ifChain(elseIf, elseIf->expr(), elseIf->block(0),
                                elseIf->block().size() > 1 ? elseIf->block(1) : nullptr,
                                elseIf->ifStmtTail()));
      s->elseBody = std::move(b);
    }
    return s;
  }

  ast::StmtPtr stmt(P::StmtContext* c) {
    if (auto* x = dynamic_cast<P::IfStmtContext*>(c))
      return ifChain(x, x->expr(), x->block(0), x->block().size() > 1 ? x->block(1) : nullptr,
                     x->ifStmtTail());
    auto s = std::make_unique<ast::Stmt>();
    s->loc = locOf(file_, c->getStart());
    if (auto* x = dynamic_cast<P::StateStmtContext*>(c)) {
      s->kind = ast::StmtKind::State;
      s->names = {name(x->ident())};
      s->nameLocs = {loc(x->ident())};
      if (x->tensorType()) s->type = tensorType(x->tensorType());
      s->value = expr(x->expr());
    } else if (auto* x = dynamic_cast<P::AssignStmtContext*>(c)) {
      s->kind = ast::StmtKind::Assign;
      s->names = {name(x->ident())};
      s->nameLocs = {loc(x->ident())};
      if (x->tensorType()) s->type = tensorType(x->tensorType());
      s->value = expr(x->expr());
    } else if (auto* x = dynamic_cast<P::DestructureStmtContext*>(c)) {
      s->kind = ast::StmtKind::Destructure;
      for (P::IdentContext* id : x->ident()) {
        s->names.push_back(name(id));
        s->nameLocs.push_back(loc(id));
      }
      s->value = expr(x->expr());
    } else if (auto* x = dynamic_cast<P::ReturnStmtContext*>(c)) {
      s->kind = ast::StmtKind::Return;
      s->value = expr(x->expr());
    } else if (auto* x = dynamic_cast<P::SlowStmtContext*>(c)) {
      loopStmt(*s, ast::LoopSpelling::Slow, "H", s->loc, x->expr(), x->block());
    } else if (auto* x = dynamic_cast<P::FastStmtContext*>(c)) {
      loopStmt(*s, ast::LoopSpelling::Fast, "L", s->loc, x->expr(), x->block());
    } else if (auto* x = dynamic_cast<P::LevelStmtContext*>(c)) {
      loopStmt(*s, ast::LoopSpelling::Named, name(x->ident()), loc(x->ident()), x->expr(), x->block());
    }
    return s;
  }

  void loopStmt(ast::Stmt& s, ast::LoopSpelling spelling, std::string level, Loc levelLoc, P::ExprContext* count,
                P::BlockContext* body) {
    s.kind = ast::StmtKind::Loop;
    s.spelling = spelling;
    s.level = std::move(level);
    s.levelLoc = levelLoc;
    s.value = expr(count);
    s.body = block(body);
  }

  ast::ExprPtr make(ast::ExprKind k, Loc l) {
    auto e = std::make_unique<ast::Expr>();
    e->kind = k;
    e->loc = l;
    return e;
  }

  ast::ExprPtr binary(P::ExprContext* c, antlr4::Token* op, P::ExprContext* l, P::ExprContext* r,
                      ast::BinaryOp bop) {
    auto e = make(ast::ExprKind::Binary, op ? locOf(file_, op) : locOf(file_, c));
    e->binaryOp = bop;
    e->lhs = expr(l);
    e->rhs = expr(r);
    return e;
  }

  static ast::BinaryOp binaryOpOf(const std::string& s) {
    static const std::pair<const char*, ast::BinaryOp> ops[] = {
        {"+", ast::BinaryOp::Add}, {"-", ast::BinaryOp::Sub},  {"*", ast::BinaryOp::Mul},
        {"/", ast::BinaryOp::Div}, {"%", ast::BinaryOp::Mod},  {"@", ast::BinaryOp::MatMul},
        {"<", ast::BinaryOp::Lt},  {"<=", ast::BinaryOp::Le}, {">", ast::BinaryOp::Gt},
        {">=", ast::BinaryOp::Ge}, {"==", ast::BinaryOp::Eq}, {"!=", ast::BinaryOp::Ne},
        {"&&", ast::BinaryOp::And}, {"||", ast::BinaryOp::Or}};
    for (const auto& [text, op] : ops)
      if (s == text) return op;
    return ast::BinaryOp::Add;
  }

  // An Int node standing in for a subtree that could not be built (errors were already reported).
  ast::ExprPtr placeholder(Loc l) { return make(ast::ExprKind::Int, l); }

  ast::ExprPtr expr(P::ExprContext* c) {
    if (!c) return placeholder(Loc{});
    if (++depth_ > ParseLimits::kMaxExprDepth) {
      --depth_;
      if (!reportedDepth_) {
        reportedDepth_ = true;
        diags_.error(locOf(file_, c), "expression is nested too deeply",
                     "split it into named intermediate values");
      }
      return placeholder(locOf(file_, c));
    }
    ast::ExprPtr e = exprInner(c);
    --depth_;
    return e;
  }

  ast::ExprPtr exprInner(P::ExprContext* c) {
    if (auto* x = dynamic_cast<P::PrimaryExprContext*>(c)) return primary(x->primary());
    if (auto* x = dynamic_cast<P::MemberExprContext*>(c)) {
      auto e = make(ast::ExprKind::Member, loc(x->ident()));
      e->text = name(x->ident());
      e->lhs = expr(x->expr());
      return e;
    }
    if (auto* x = dynamic_cast<P::CallExprContext*>(c)) {
      auto e = make(ast::ExprKind::Call, locOf(file_, x));
      e->lhs = expr(x->expr());
      e->loc = e->lhs->loc;
      e->args = args(x->callArgs());
      return e;
    }
    if (auto* x = dynamic_cast<P::UnaryExprContext*>(c)) {
      auto e = make(ast::ExprKind::Unary, locOf(file_, x->op));
      e->unaryOp = x->op->getText() == "-" ? ast::UnaryOp::Neg : ast::UnaryOp::Not;
      e->lhs = expr(x->expr());
      return e;
    }
    if (auto* x = dynamic_cast<P::MulExprContext*>(c))
      return binary(c, x->op, x->expr(0), x->expr(1), binaryOpOf(x->op->getText()));
    if (auto* x = dynamic_cast<P::AddExprContext*>(c))
      return binary(c, x->op, x->expr(0), x->expr(1), binaryOpOf(x->op->getText()));
    if (auto* x = dynamic_cast<P::CmpExprContext*>(c))
      return binary(c, x->op, x->expr(0), x->expr(1), binaryOpOf(x->op->getText()));
    if (auto* x = dynamic_cast<P::EqExprContext*>(c))
      return binary(c, x->op, x->expr(0), x->expr(1), binaryOpOf(x->op->getText()));
    if (auto* x = dynamic_cast<P::AndExprContext*>(c))
      return binary(c, nullptr, x->expr(0), x->expr(1), ast::BinaryOp::And);
    if (auto* x = dynamic_cast<P::OrExprContext*>(c))
      return binary(c, nullptr, x->expr(0), x->expr(1), ast::BinaryOp::Or);
    if (auto* x = dynamic_cast<P::CondExprContext*>(c)) {
      auto e = make(ast::ExprKind::Cond, locOf(file_, x));
      e->cond = expr(x->expr(0));
      e->lhs = expr(x->expr(1));
      e->rhs = expr(x->expr(2));
      return e;
    }
    return placeholder(locOf(file_, c));
  }

  ast::ExprPtr primary(P::PrimaryContext* c) {
    if (!c) return placeholder(Loc{});
    Loc l = locOf(file_, c->getStart());
    if (c->INT()) {
      auto e = make(ast::ExprKind::Int, l);
      errno = 0;
      e->intValue = std::strtoll(c->INT()->getText().c_str(), nullptr, 10);
      if (errno == ERANGE) diags_.error(l, "integer literal is too large", "integers are 64-bit");
      return e;
    }
    if (c->FLOAT()) {
      auto e = make(ast::ExprKind::Float, l);
      errno = 0;
      e->floatValue = std::strtod(c->FLOAT()->getText().c_str(), nullptr);
      if (errno == ERANGE && std::abs(e->floatValue) > 1)
        diags_.error(l, "float literal is out of range", "floats are 64-bit IEEE numbers");
      return e;
    }
    if (c->STRING()) {
      auto e = make(ast::ExprKind::String, l);
      e->text = unquote(c->STRING()->getSymbol());
      return e;
    }
    if (c->ident()) {
      auto e = make(ast::ExprKind::Name, loc(c->ident()));
      e->text = name(c->ident());
      return e;
    }
    std::string first = c->getStart()->getText();
    if (first == "true" || first == "false") {
      auto e = make(ast::ExprKind::Bool, l);
      e->boolValue = first == "true";
      return e;
    }
    if (first == "[") {
      auto e = make(ast::ExprKind::List, locOf(file_, c));
      for (P::ExprContext* x : c->expr()) e->elems.push_back(expr(x));
      return e;
    }
    return expr(c->expr().empty() ? nullptr : c->expr(0));  // parenthesised
  }

  uint32_t file_;
  DiagEngine& diags_;
  int depth_ = 0;
  bool reportedDepth_ = false;
};

}  // namespace

std::unique_ptr<ast::File> parseFile(const SourceManager& sm, uint32_t fileId, DiagEngine& diags) {
  const size_t errorsBefore = diags.errorCount();
  antlr4::ANTLRInputStream input(sm.text(fileId));
  HrmLexer lexer(&input);
  ErrorListener listener(fileId, diags);
  lexer.removeErrorListeners();
  lexer.addErrorListener(&listener);
  antlr4::CommonTokenStream tokens(&lexer);
  tokens.fill();
  if (!checkNesting(tokens, fileId, diags)) return nullptr;

  HrmParser parser(&tokens);
  parser.removeErrorListeners();
  parser.addErrorListener(&listener);
  // SLL first (fast); on failure fall back to full LL so error messages are the precise ones.
  parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(antlr4::atn::PredictionMode::SLL);
  parser.setErrorHandler(std::make_shared<antlr4::BailErrorStrategy>());
  HrmParser::FileContext* tree = nullptr;
  try {
    tree = parser.file();
  } catch (const antlr4::ParseCancellationException&) {
    tokens.seek(0);
    parser.reset();
    parser.setErrorHandler(std::make_shared<antlr4::DefaultErrorStrategy>());
    parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(antlr4::atn::PredictionMode::LL);
    tree = parser.file();
  }
  if (diags.errorCount() > errorsBefore) return nullptr;
  AstBuilder builder(fileId, diags);
  return builder.build(tree);
}

}  // namespace hrmc::dsl
