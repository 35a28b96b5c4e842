#include <gtest/gtest.h>

#include "dsl/diag/Diagnostics.h"

using namespace hrmc::dsl;

namespace {

struct Fixture {
  SourceManager sm;
  DiagEngine diags{sm};
  uint32_t file;
  explicit Fixture(const std::string& text) {
    std::string err;
    file = *sm.addBuffer("m.hrm", text, err);
  }
};

TEST(Diagnostics, RendersLocationSourceLineCaretAndHint) {
  Fixture f("config { hiden: int = 1; }\n");
  f.diags.error(Loc{f.file, 1, 10, 5}, "unknown thing", "try 'hidden'");
  EXPECT_EQ(f.diags.renderToString(),
            "m.hrm:1:10: error: unknown thing\n"
            "  config { hiden: int = 1; }\n"
            "           ^~~~~\n"
            "hint: try 'hidden'\n"
            "1 error generated.\n");
}

TEST(Diagnostics, CaretCountsCodePointsNotBytes) {
  Fixture f("\"§1.1\" x\n");
  f.diags.error(Loc{f.file, 1, 8, 1}, "here");
  // '§' is two bytes but one column: the caret sits under 'x'.
  EXPECT_NE(f.diags.renderToString().find("  \"§1.1\" x\n         ^\n"), std::string::npos);
}

TEST(Diagnostics, ErrorsBeforeWarningsAndCounted) {
  Fixture f("a\nb\n");
  f.diags.warning(Loc{f.file, 2, 1, 1}, "w");
  f.diags.error(Loc{f.file, 1, 1, 1}, "e");
  std::string out = f.diags.renderToString();
  EXPECT_LT(out.find("error: e"), out.find("warning: w"));
  EXPECT_NE(out.find("1 error, 1 warning generated."), std::string::npos);
}

TEST(Diagnostics, SameErrorAtSamePlaceIsReportedOnce) {
  Fixture f("a\n");
  f.diags.error(Loc{f.file, 1, 1, 1}, "e");
  f.diags.error(Loc{f.file, 1, 1, 1}, "e");
  EXPECT_EQ(f.diags.errorCount(), 1u);
}

TEST(Diagnostics, StopsShowingAfterTheLimit) {
  Fixture f("a\n");
  for (int i = 0; i < 30; ++i) f.diags.error(Loc{f.file, 1, 1, 1}, "e" + std::to_string(i));
  EXPECT_EQ(f.diags.errorCount(), 30u);
  EXPECT_EQ(f.diags.all().size(), DiagEngine::kMaxErrors);
  EXPECT_NE(f.diags.renderToString().find("too many errors (30); showing the first 20"), std::string::npos);
}

TEST(DidYouMean, FindsCloseNamesOnly) {
  EXPECT_EQ(closestMatch("hiden", {"hidden", "heads", "vocab"}), "hidden");
  EXPECT_EQ(closestMatch("Linaer", {"Linear", "SwiGLU"}), "Linear");
  EXPECT_EQ(closestMatch("xyz", {"hidden", "heads"}), "");
  EXPECT_EQ(didYouMean("vocb", {"vocab"}), " (did you mean 'vocab'?)");
}

TEST(SourceManager, RejectsBinaryAndBadUtf8) {
  SourceManager sm;
  std::string err;
  EXPECT_FALSE(sm.addBuffer("a", std::string("x\0y", 3), err));
  EXPECT_NE(err.find("NUL"), std::string::npos);
  EXPECT_FALSE(sm.addBuffer("b", "ok \xC3", err));
  EXPECT_NE(err.find("UTF-8"), std::string::npos);
  // Structurally plausible but invalid: overlong NUL, a UTF-16 surrogate, a code point past U+10FFFF.
  for (const char* bad : {"\xC0\x80", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE0\x80\x80"})
    EXPECT_FALSE(sm.addBuffer("d", bad, err)) << bad;
  EXPECT_TRUE(sm.addBuffer("c", "naïve § ok \xF0\x9F\x98\x80", err));
}

}  // namespace
