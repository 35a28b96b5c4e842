#include <gtest/gtest.h>

#include "dsl/ast/AstPrinter.h"
#include "dsl/parse/ParseFile.h"

using namespace hrmc::dsl;

namespace {

struct Parsed {
  SourceManager sm;
  DiagEngine diags{sm};
  std::unique_ptr<ast::File> file;
  explicit Parsed(const std::string& text) {
    std::string err;
    uint32_t id = *sm.addBuffer("t.hrm", text, err);
    file = parseFile(sm, id, diags);
  }
};

TEST(Parser, BuildsDeclarationsWithDocsAndLocations) {
  Parsed p(R"(import "nn.hrm";
"Two lines"
"of doc."
enum Norm { pre, post }
config { d: int = 4 "width"; }
preset tiny { d = 2; }
module Lin(n: int, s: float = 1.0) {
  param w: [n, n] = zeros();
  fn forward(x: [T, n]) -> [T, n] { return linear(x, w); }
}
)");
  ASSERT_TRUE(p.file) << p.diags.renderToString();
  EXPECT_EQ(p.file->imports.at(0).path, "nn.hrm");
  ASSERT_EQ(p.file->enums.size(), 1u);
  EXPECT_EQ(p.file->enums[0].doc, "Two lines\nof doc.");
  EXPECT_EQ(p.file->enums[0].values, (std::vector<std::string>{"pre", "post"}));
  EXPECT_EQ(p.file->config.at(0).doc, "width");
  EXPECT_EQ(p.file->presets.at(0).assignments.at(0).key, "d");
  const ast::ModuleDecl& m = p.file->modules.at(0);
  EXPECT_EQ(m.name, "Lin");
  EXPECT_EQ(m.loc.line, 7u);
  EXPECT_EQ(m.loc.col, 8u);
  ASSERT_EQ(m.params.size(), 2u);
  EXPECT_EQ(printExpr(*m.params[1].defaultValue), "1.0");
  ASSERT_EQ(m.members.size(), 2u);
  EXPECT_EQ(m.members[0].kind, ast::MemberKind::Param);
  EXPECT_EQ(m.members[1].kind, ast::MemberKind::Fn);
}

TEST(Parser, OperatorPrecedenceAndAssociativity) {
  Parsed p("config { a: int = 1 + 2 * 3 - 4 / 2; b: bool = 1 < 2 && !false || true; c: int = true ? 1 : false ? 2 : 3; }");
  ASSERT_TRUE(p.file) << p.diags.renderToString();
  EXPECT_EQ(printExpr(*p.file->config[0].value), "((1 + (2 * 3)) - (4 / 2))");
  EXPECT_EQ(printExpr(*p.file->config[1].value), "(((1 < 2) && !false) || true)");
  EXPECT_EQ(printExpr(*p.file->config[2].value), "(true ? 1 : (false ? 2 : 3))");
}

TEST(Parser, RecurrenceSyntax) {
  Parsed p(R"(model M {
  fn forward(t: [T] i32) -> [T, 4] {
    state z: [T, 4] = zeros;
    slow(2) { fast(3) { z = f(z); } z = g(z); }
    a, b = split(z, 2);
    if x == 1 { return z; } else if x == 2 { return a; } else { return b; }
  }
})");
  ASSERT_TRUE(p.file) << p.diags.renderToString();
  const ast::FnDecl& f = *p.file->modules[0].members[0].fn;
  ASSERT_EQ(f.body.stmts.size(), 4u);
  EXPECT_EQ(f.body.stmts[0]->kind, ast::StmtKind::State);
  const ast::Stmt& slow = *f.body.stmts[1];
  EXPECT_EQ(slow.kind, ast::StmtKind::Loop);
  EXPECT_EQ(slow.spelling, ast::LoopSpelling::Slow);
  EXPECT_EQ(slow.level, "H");
  EXPECT_EQ(slow.body.stmts[0]->spelling, ast::LoopSpelling::Fast);
  EXPECT_EQ(slow.body.stmts[0]->level, "L");
  EXPECT_EQ(f.body.stmts[2]->kind, ast::StmtKind::Destructure);
  const ast::Stmt& chain = *f.body.stmts[3];
  ASSERT_TRUE(chain.elseBody);
  EXPECT_EQ(chain.elseBody->stmts.at(0)->kind, ast::StmtKind::If);
  EXPECT_TRUE(chain.elseBody->stmts[0]->elseBody.has_value());
}

TEST(Parser, NamedLevels) {
  Parsed p(R"(model M {
  fn forward(t: [T] i32) -> [T, 4] {
    state level: [T, 4] = zeros;
    level G(2) { level H(n + 1) { level = f(level); } }
    return level;
  }
})");
  ASSERT_TRUE(p.file) << p.diags.renderToString();
  const ast::FnDecl& f = *p.file->modules[0].members[0].fn;
  const ast::Stmt& g = *f.body.stmts[1];
  EXPECT_EQ(g.kind, ast::StmtKind::Loop);
  EXPECT_EQ(g.spelling, ast::LoopSpelling::Named);
  EXPECT_EQ(g.level, "G");
  EXPECT_EQ(g.levelLoc.line, 4);
  EXPECT_EQ(g.levelLoc.col, 11);
  const ast::Stmt& h = *g.body.stmts[0];
  EXPECT_EQ(h.level, "H");
  EXPECT_EQ(printExpr(*h.value), "(n + 1)");
  // `level` stays usable as a name, as the other contextual keywords do.
  EXPECT_EQ(h.body.stmts[0]->kind, ast::StmtKind::Assign);
  EXPECT_EQ(h.body.stmts[0]->names[0], "level");
}

TEST(Parser, KeywordsThatAreAlsoNames) {
  // `model` and `mask` are reference parameter names as well as keywords.
  Parsed p("model M { model: Inner; mask prefixlm; fn forward(mask: [T] i32) -> [T] { return model.mask; } }");
  ASSERT_TRUE(p.file) << p.diags.renderToString();
  EXPECT_EQ(p.file->modules[0].members[0].name, "model");
  EXPECT_EQ(p.file->modules[0].members[1].kind, ast::MemberKind::Mask);
}

TEST(Parser, SyntaxErrorsAreReportedAndParsingStops) {
  Parsed p("module A { x: Linear(4, 4) }\nmodule B { $ }\n");
  EXPECT_FALSE(p.file);
  std::string out = p.diags.renderToString();
  EXPECT_NE(out.find("t.hrm:1:28: error: expected ';'"), std::string::npos) << out;
  EXPECT_NE(out.find("t.hrm:2:12: error: unexpected character '$'"), std::string::npos) << out;
}

TEST(Parser, IntegerOverflowIsAnError) {
  Parsed p("config { a: int = 99999999999999999999; }");
  EXPECT_NE(p.diags.renderToString().find("integer literal is too large"), std::string::npos);
}

}  // namespace
