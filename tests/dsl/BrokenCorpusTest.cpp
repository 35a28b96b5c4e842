// Golden diagnostics: every file in tests/dsl/broken gets exactly the diagnostics in its .expected
// file. A first line `// args: --preset P --set k=v` passes options. HRMC_UPDATE_GOLDEN=1 rewrites
// the .expected files (review the diff before committing).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "dsl/sema/Sema.h"

namespace fs = std::filesystem;
using namespace hrmc::dsl;

namespace {

std::string readFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

FrontendOptions optionsFrom(const std::string& text) {
  FrontendOptions o;
  o.stdlibDirs = {HRMC_STDLIB_DIR};
  const std::string tag = "// args:";
  if (text.rfind(tag, 0) != 0) return o;
  std::istringstream line(text.substr(tag.size(), text.find('\n') - tag.size()));
  std::string flag, value;
  while (line >> flag >> value) {
    if (flag == "--preset") o.preset = value;
    if (flag == "--set") o.overrides.push_back({value.substr(0, value.find('=')), value.substr(value.find('=') + 1)});
  }
  return o;
}

std::string diagnose(const fs::path& file) {
  // Run from the corpus folder so paths in messages are the bare file names.
  fs::path saved = fs::current_path();
  fs::current_path(file.parent_path());
  auto fe = runFrontend(file.filename().string(), optionsFrom(readFile(file)));
  fs::current_path(saved);
  std::string out = fe->diags.renderToString();
  for (size_t p; (p = out.find(HRMC_STDLIB_DIR)) != std::string::npos;) out.replace(p, std::string(HRMC_STDLIB_DIR).size(), "<stdlib>");
  return out;
}

class BrokenCorpus : public testing::TestWithParam<std::string> {};

TEST_P(BrokenCorpus, MatchesExpectedDiagnostics) {
  fs::path file = fs::path(HRMC_TEST_CORPUS) / (GetParam() + ".hrm");
  fs::path expectedFile = fs::path(HRMC_TEST_CORPUS) / (GetParam() + ".expected");
  std::string got = diagnose(file);
  if (const char* u = std::getenv("HRMC_UPDATE_GOLDEN"); u && std::string(u) == "1") {
    std::ofstream(expectedFile, std::ios::binary) << got;
    GTEST_SKIP() << "rewrote " << expectedFile;
  }
  ASSERT_TRUE(fs::exists(expectedFile)) << "missing " << expectedFile << "; run with HRMC_UPDATE_GOLDEN=1";
  EXPECT_EQ(readFile(expectedFile), got);
}

std::vector<std::string> corpusNames() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(HRMC_TEST_CORPUS))
    if (e.path().extension() == ".hrm") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

INSTANTIATE_TEST_SUITE_P(Files, BrokenCorpus, testing::ValuesIn(corpusNames()),
                         [](const testing::TestParamInfo<std::string>& i) { return i.param; });

// Inputs too large to commit are generated here.
TEST(BrokenInput, OversizedFileIsRejectedWithoutReading) {
  fs::path p = fs::temp_directory_path() / "hrmc_huge_input.hrm";
  {
    std::ofstream out(p, std::ios::binary);
    std::string line(1023, ' ');
    line += '\n';
    for (int i = 0; i < 1100; ++i) out << line;
  }
  auto fe = runFrontend(p.string(), FrontendOptions{});
  fs::remove(p);
  ASSERT_TRUE(fe->diags.hasErrors());
  EXPECT_NE(fe->diags.renderToString().find("limited to 1048576 bytes"), std::string::npos);
}

TEST(BrokenInput, MissingFileIsAnError) {
  auto fe = runFrontend("/nonexistent/model.hrm", FrontendOptions{});
  ASSERT_EQ(fe->diags.errorCount(), 1u);
  EXPECT_EQ(fe->diags.renderToString(), "hrmc: error: /nonexistent/model.hrm: cannot open file\n1 error generated.\n");
}

TEST(BrokenInput, LongOperatorChainIsBoundedNotAStackOverflow) {
  std::string text = "config { x: int = 1";
  for (int i = 0; i < 100000; ++i) text += " + 1";
  text += "; }\n";
  auto fe = runFrontend("chain.hrm", FrontendOptions{}, &text);
  ASSERT_TRUE(fe->diags.hasErrors());
  EXPECT_NE(fe->diags.renderToString().find("expression is nested too deeply"), std::string::npos);
}

TEST(BrokenInput, HugeUnrollIsRefused) {
  std::string text = std::string(HRMC_MODELS_DIR) + "/hrm_text.hrm";
  FrontendOptions o;
  o.preset = "tiny";
  o.overrides = {{"layers", "150000"}};
  auto fe = runFrontend(text, o);
  ASSERT_TRUE(fe->diags.hasErrors());
  EXPECT_NE(fe->diags.renderToString().find("more than"), std::string::npos);
}

}  // namespace
