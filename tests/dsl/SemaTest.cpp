#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include "dsl/report/ModelReport.h"
#include "dsl/sema/Sema.h"

using namespace hrmc::dsl;

namespace {

std::unique_ptr<FrontendResult> run(const std::string& text, FrontendOptions o = {}) {
  o.stdlibDirs = {HRMC_STDLIB_DIR};
  return runFrontend("t.hrm", o, &text);
}

const ConfigValue& cfg(const FrontendResult& r, const std::string& name) {
  auto it = std::find_if(r.config.begin(), r.config.end(), [&](const ConfigValue& c) { return c.name == name; });
  EXPECT_NE(it, r.config.end()) << name;
  return *it;
}

const char* kConfig = R"(
import "nn.hrm";
config {
  hidden: int = 64;
  expansion: float = 4.0;
  inter: int = round_up(round(expansion * hidden * 2.0 / 3.0), 256);
  norm: Norm = pre;
  ratio: float = 0.5;
}
preset big { hidden = 1024; }
preset fixed { hidden = 1024; inter = 100; }
)";

TEST(Config, DefaultsPresetsAndOverridesInOrder) {
  auto r = run(kConfig);
  ASSERT_TRUE(r->ok()) << r->diags.renderToString();
  EXPECT_EQ(cfg(*r, "inter").text, "256");  // round(170.67) = 171 -> 256
  EXPECT_EQ(cfg(*r, "inter").source, "default");

  FrontendOptions o;
  o.preset = "big";
  r = run(kConfig, o);
  EXPECT_EQ(cfg(*r, "hidden").source, "preset big");
  EXPECT_EQ(cfg(*r, "inter").text, "2816");  // derived entries follow the preset (HRM-TEXT.md §1.1, size B)

  o.preset = "fixed";
  o.overrides = {{"hidden", "128"}, {"norm", "post"}, {"ratio", "1"}};
  r = run(kConfig, o);
  ASSERT_TRUE(r->ok()) << r->diags.renderToString();
  EXPECT_EQ(cfg(*r, "hidden").text, "128");
  EXPECT_EQ(cfg(*r, "hidden").source, "--set");
  EXPECT_EQ(cfg(*r, "inter").text, "100");  // the preset pins it
  EXPECT_EQ(cfg(*r, "norm").text, "post");
  EXPECT_EQ(cfg(*r, "ratio").number, 1.0);  // an int is accepted for a float
}

TEST(Config, BadOverridesNameTheKeyAndType) {
  FrontendOptions o;
  o.overrides = {{"hiden", "3"}, {"norm", "sideways"}};
  auto r = run(kConfig, o);
  std::string out = r->diags.renderToString();
  EXPECT_NE(out.find("hrmc: error: --set hiden: unknown config key 'hiden' (did you mean 'hidden'?)"), std::string::npos) << out;
  EXPECT_NE(out.find("hint: config keys: hidden, expansion, inter, norm, ratio"), std::string::npos) << out;
  EXPECT_NE(out.find("--set norm=sideways: expected one of pre, post"), std::string::npos) << out;
}

const char* kRecurrent = R"(
config { d: int = 8; v: int = 16; }
module Step(d: int) {
  param w: [d, d] = lecun(d);
  magicnorm(eps = 1e-5);
  fn forward(x: [T, d]) -> [T, d] { return linear(x, w); }
}
model R {
  param emb: [v, d] = trunc_normal(0.5);
  H: Step(d);
  L: Step(d);
  param head: [v, d] = zeros();
  credit(min = 2, max = 5, warmup = 0.2, split = h_first);
  fn forward(tokens: [T] i32) -> [T, v] {
    x = embedding(emb, tokens);
    state zH = x;
    state zL = x * 0.0;
    slow(2) {
      fast(3) { zL = L(zL + zH); }
      zH = H(zH + zL);
    }
    return linear(zH, head);
  }
}
)";

TEST(Elaboration, UnrollsTheRecurrenceAndTagsSteps) {
  auto r = run(kRecurrent);
  ASSERT_TRUE(r->ok()) << r->diags.renderToString();
  const ModelGraph& g = *r->graph;
  ASSERT_EQ(g.steps.size(), 8u);
  std::string order;
  for (const Step& s : g.steps) order += s.level + std::to_string(s.levelIndex) + " ";
  EXPECT_EQ(order, "L0 L1 L2 H0 L3 L4 L5 H1 ");
  EXPECT_EQ(g.levels, (std::vector<std::string>{"H", "L"}));
  ASSERT_EQ(g.steps[5].loops.size(), 2u);
  EXPECT_EQ(g.steps[5].loops[0].level, "H");
  EXPECT_EQ(g.steps[5].loops[0].iter, 1);
  EXPECT_EQ(g.steps[5].loops[1].level, "L");
  EXPECT_EQ(g.steps[5].loops[1].iter, 1);
  EXPECT_EQ(g.steps[3].callee, "H");
  // MagicNorm runs at the exit of every step: one magicnorm RmsNorm per step, tagged with it.
  std::vector<int> normsPerStep(8, 0);
  for (const Node& n : g.nodes)
    if (n.op == OpKind::RmsNorm && n.magicnorm) {
      ASSERT_GE(n.step, 0);
      ++normsPerStep[n.step];
      EXPECT_FLOAT_EQ(n.scalar, 1e-5);
    }
  EXPECT_EQ(normsPerStep, std::vector<int>(8, 1));
  // Weights: reference-style dotted names, buffers separate.
  EXPECT_EQ(g.weights[1].name, "H.w");
  EXPECT_DOUBLE_EQ(g.weights[1].stddev, 1.0 / std::sqrt(8.0));
}

TEST(Elaboration, CreditWindowHFirstSplitMatchesTheSpecTable) {
  auto r = run(kRecurrent);
  ASSERT_TRUE(r->ok());
  const ModelGraph& g = *r->graph;
  auto names = [&](int K) {
    std::string s;
    std::vector<bool> grad = g.stepsWithGrad(K);
    for (size_t i = 0; i < g.steps.size(); ++i)
      if (grad[i]) s += g.steps[i].level + std::to_string(g.steps[i].levelIndex) + " ";
    return s;
  };
  // HRM-TEXT.md §2 table, in execution order.
  EXPECT_EQ(names(2), "L5 H1 ");
  EXPECT_EQ(names(3), "H0 L5 H1 ");
  EXPECT_EQ(names(4), "H0 L4 L5 H1 ");
  EXPECT_EQ(names(5), "H0 L3 L4 L5 H1 ");
}

TEST(Elaboration, EmbeddingGetsNoGradientAtK2Only) {
  auto r = run(kRecurrent);
  ASSERT_TRUE(r->ok());
  const ModelGraph& g = *r->graph;
  const int emb = g.weights[0].node;
  EXPECT_EQ(g.weights[0].name, "emb");
  EXPECT_FALSE(g.nodesWithGrad(2)[emb]);
  for (int K = 3; K <= 5; ++K) EXPECT_TRUE(g.nodesWithGrad(K)[emb]) << K;
  for (int K = 2; K <= 5; ++K) {
    for (const Weight& w : g.weights) {
      if (w.name == "emb") continue;
      EXPECT_TRUE(g.nodesWithGrad(K)[w.node]) << w.name << " K=" << K;
    }
  }
}

TEST(Elaboration, DimensionVariablesBindFromArguments) {
  auto r = run(R"(
fn double_width(x: [T, d]) -> [T, d] { y: [T, d] = x + x; return y; }
model M {
  param e: [10, 6] = zeros();
  fn forward(t: [T] i32) -> [T, 6] { return double_width(embedding(e, t)); }
})");
  ASSERT_TRUE(r->ok()) << r->diags.renderToString();
  EXPECT_EQ(r->graph->nodes[r->graph->output].type.str(), "[T, 6] f32");
}

TEST(Elaboration, GatedAttentionSplitsHeadsInReferenceOrder) {
  auto r = run(R"(
import "nn.hrm";
model M {
  e: ScaledEmbedding(10, 8);
  attn: GatedAttention(8, 2);
  mask causal;
  fn forward(t: [T] i32) -> [T, 8] { return attn(e(t)); }
})");
  ASSERT_TRUE(r->ok()) << r->diags.renderToString();
  const ModelGraph& g = *r->graph;
  std::vector<int64_t> offsets;
  for (const Node& n : g.nodes)
    if (n.op == OpKind::Slice) offsets.push_back(n.offset);
  // [gate | q | k | v]: 4 slices of 2 heads along the head axis of [T, 8 heads, 4].
  EXPECT_EQ(offsets, (std::vector<int64_t>{0, 2, 4, 6}));
  auto att = std::find_if(g.nodes.begin(), g.nodes.end(), [](const Node& n) { return n.op == OpKind::Attention; });
  ASSERT_NE(att, g.nodes.end());
  EXPECT_EQ(att->mask, MaskKind::Causal);
  EXPECT_EQ(att->type.str(), "[T, 2, head_dim=4] f32");
}

TEST(Elaboration, ShapeMismatchNamesDimensions) {
  auto r = run(R"(
config { hidden: int = 16; inter: int = 64; }
model M {
  param e: [10, hidden] = zeros();
  param w: [inter, hidden] = zeros();
  fn forward(t: [T] i32) -> [T, hidden] { x = embedding(e, t); return x + linear(x, w); }
})");
  EXPECT_NE(r->diags.renderToString().find("shape mismatch in '+': left is [T, hidden=16] f32, right is [T, inter=64] f32"),
            std::string::npos)
      << r->diags.renderToString();
}

TEST(Report, FlopsFollowTheSpecFormula) {
  auto r = run(kRecurrent);
  ASSERT_TRUE(r->ok());
  const ModelGraph& g = *r->graph;
  // P_mod = 64 per level, head V·d = 128: F(K) = 2·64·8 + 4·64·K + 6·128.
  for (int K = 2; K <= 5; ++K) EXPECT_DOUBLE_EQ(trainFlopsPerToken(g, K), 2.0 * 64 * 8 + 4.0 * 64 * K + 6.0 * 128) << K;
  ModelStats st = computeStats(g);
  EXPECT_EQ(st.totalParams, 16 * 8 + 64 + 64 + 16 * 8);
  EXPECT_EQ(st.nonEmbeddingParams(), 128);
}

}  // namespace

namespace {

// The worked example of dsl/README.md must stay a valid model.
TEST(LanguageReference, WorkedExampleChecksClean) {
  std::ifstream in(HRMC_DSL_README);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string doc = ss.str();
  size_t begin = doc.find("```\n");
  ASSERT_NE(begin, std::string::npos);
  begin += 4;
  size_t end = doc.find("```", begin);
  std::string example = doc.substr(begin, end - begin);
  auto r = run(example);
  ASSERT_TRUE(r->ok() && r->graph) << r->diags.renderToString();
  EXPECT_EQ(r->graph->steps.size(), 8u);
  EXPECT_EQ(r->graph->weights.back().name, "zL_init");
}

// Every other `hrm` example that declares a model checks clean too.
TEST(LanguageReference, EveryModelExampleChecksClean) {
  std::ifstream in(HRMC_DSL_README);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  int models = 0;
  for (size_t at = doc.find("```hrm\n"); at != std::string::npos; at = doc.find("```hrm\n", at + 1)) {
    const size_t begin = at + 7;
    const std::string example = doc.substr(begin, doc.find("```", begin) - begin);
    if (example.find("\nmodel ") == std::string::npos) continue;
    auto r = run(example);
    EXPECT_TRUE(r->ok() && r->graph) << example << r->diags.renderToString();
    ++models;
  }
  EXPECT_GE(models, 2);
}

const char* kThreeLevels = R"(
config { vocab: int = 16; }
model M {
  param table: [vocab, 4] = zeros();
  param head: [vocab, 4] = zeros();
  credit(min = 3, max = 6, warmup = 0.2);
  fn forward(tokens: [T] i32) -> [T, vocab] {
    x = embedding(table, tokens);
    state g = x;
    state h = x;
    state l = x;
    level G(2) {
      level H(2) {
        level L(2) { l = rms_norm(l + h); }
        h = rms_norm(h + l + g);
      }
      g = rms_norm(g + h);
    }
    return linear(g, head);
  }
}
)";

std::string labels(const ModelGraph& g, const std::vector<bool>& which) {
  std::string s;
  for (size_t i = 0; i < g.steps.size(); ++i)
    if (which[i]) s += g.steps[i].level + std::to_string(g.steps[i].levelIndex) + " ";
  return s;
}

TEST(Elaboration, NamedLevelsNestToAnyDepth) {
  auto r = run(kThreeLevels);
  ASSERT_TRUE(r->ok()) << r->diags.renderToString();
  const ModelGraph& g = *r->graph;
  EXPECT_EQ(g.levels, (std::vector<std::string>{"G", "H", "L"}));
  EXPECT_EQ(g.splitOrder(), g.levels);  // outermost level first by default
  ASSERT_EQ(g.steps.size(), 14u);
  EXPECT_EQ(labels(g, std::vector<bool>(14, true)), "L0 L1 H0 L2 L3 H1 G0 L4 L5 H2 L6 L7 H3 G1 ");
  const Step& last = g.steps[12];  // H3: G cycle 1, H cycle 1
  ASSERT_EQ(last.loops.size(), 2u);
  EXPECT_EQ(last.loops[0].level, "G");
  EXPECT_EQ(last.loops[0].iter, 1);
  EXPECT_EQ(last.loops[1].level, "H");
  EXPECT_EQ(last.loops[1].iter, 1);
  // Each level takes its last steps, leaving one for every later level (dsl/sema/CreditSplit.h).
  EXPECT_EQ(labels(g, g.stepsWithGrad(3)), "L7 H3 G1 ");
  EXPECT_EQ(labels(g, g.stepsWithGrad(4)), "G0 L7 H3 G1 ");
  EXPECT_EQ(labels(g, g.stepsWithGrad(6)), "H1 G0 H2 L7 H3 G1 ");
}

TEST(Elaboration, DeclaredSplitOrderChoosesWhichLevelTakesItsShareFirst) {
  std::string text = kThreeLevels;
  text.replace(text.find("warmup = 0.2)"), 13, "warmup = 0.2, split = [L, H, G])");
  auto r = run(text);
  ASSERT_TRUE(r->ok()) << r->diags.renderToString();
  const ModelGraph& g = *r->graph;
  EXPECT_EQ(g.splitOrder(), (std::vector<std::string>{"L", "H", "G"}));
  EXPECT_EQ(labels(g, g.stepsWithGrad(3)), "L7 H3 G1 ");
  EXPECT_EQ(labels(g, g.stepsWithGrad(6)), "L4 L5 L6 L7 H3 G1 ");
}

TEST(Elaboration, TheTwoLevelSpellingKeepsTheHFirstWindows) {
  // slow/fast are levels H and L, so today's windows come out of the general rule unchanged.
  auto r = run(kRecurrent);
  ASSERT_TRUE(r->ok());
  const ModelGraph& g = *r->graph;
  EXPECT_EQ(labels(g, g.stepsWithGrad(1)), "L5 ");  // one step: the reserved L step
  EXPECT_EQ(labels(g, g.stepsWithGrad(3)), "H0 L5 H1 ");
  EXPECT_EQ(labels(g, g.stepsWithGrad(8)), "L0 L1 L2 H0 L3 L4 L5 H1 ");
}

TEST(Elaboration, CastConvertsBetweenFloatTypes) {
  auto r = run(R"(
config { vocab: int = 16; }
model M {
  param table: [vocab, 4] = zeros();
  fn forward(tokens: [T] i32) -> [T, 4] {
    x = embedding(table, tokens);
    b = cast(x, bf16);
    return cast(cast(b, bf16), f32);
  }
}
)");
  ASSERT_TRUE(r->ok()) << r->diags.renderToString();
  const ModelGraph& g = *r->graph;
  std::vector<DType> converts;
  for (const Node& n : g.nodes)
    if (n.op == OpKind::Convert) converts.push_back(n.type.dtype);
  // cast to the type a value already has adds nothing.
  EXPECT_EQ(converts, (std::vector<DType>{DType::BF16, DType::F32}));
  EXPECT_EQ(g.nodes[g.output].type.dtype, DType::F32);
}

// Shared configuration: an imported file's entries and presets, overridden and extended by the model.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() / ("hrmc-sema-" + std::to_string(::getpid()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name) << text;
    return (path / name).string();
  }
};

TEST(Config, ImportedEntriesAndPresetsAreOverriddenAndExtended) {
  TempDir dir;
  dir.write("shared.hrm", R"(
import "nn.hrm";  // its entries are evaluated with its own names: Norm comes from nn.hrm
config {
  hidden: int = 64 "width";
  layers: int = 4;
  inter: int = hidden * 2;
  norm: Norm = pre;
}
preset wide { hidden = 128; layers = 8; }
preset deep { layers = 16; }
)");
  const std::string model = dir.write("m.hrm", R"(
import "nn.hrm";
import "shared.hrm";
config {
  hidden: int = 32;
  cycles: int = layers / 2;
}
preset wide { layers = 2; }
preset own { cycles = 7; }
model M {
  param table: [16, hidden] = zeros();
  fn forward(tokens: [T] i32) -> [T, hidden] { return embedding(table, tokens); }
}
)");
  FrontendOptions o;
  o.stdlibDirs = {HRMC_STDLIB_DIR};
  auto r = runFrontend(model, o);
  ASSERT_TRUE(r->ok()) << r->diags.renderToString();
  std::vector<std::string> order;
  for (const ConfigValue& c : r->config) order.push_back(c.name);
  EXPECT_EQ(order, (std::vector<std::string>{"hidden", "layers", "inter", "norm", "cycles"}));
  EXPECT_EQ(cfg(*r, "hidden").text, "32");  // the model's default, at the imported entry's place
  EXPECT_EQ(cfg(*r, "inter").text, "64");   // so entries derived from it follow
  EXPECT_EQ(cfg(*r, "cycles").text, "2");
  o.preset = "wide";  // extended: the imported hidden, the model's layers
  r = runFrontend(model, o);
  ASSERT_TRUE(r->ok()) << r->diags.renderToString();
  EXPECT_EQ(cfg(*r, "hidden").text, "128");
  EXPECT_EQ(cfg(*r, "layers").text, "2");
  EXPECT_EQ(cfg(*r, "cycles").text, "1");
  o.preset = "deep";  // imported only
  r = runFrontend(model, o);
  ASSERT_TRUE(r->ok());
  EXPECT_EQ(cfg(*r, "cycles").text, "8");
  EXPECT_EQ(cfg(*r, "layers").source, "preset deep");
}

TEST(Config, ConflictingImportedEntriesAndTypeChangesAreErrors) {
  TempDir dir;
  dir.write("a.hrm", "config { hidden: int = 64; }\npreset p { hidden = 1; }\n");
  dir.write("b.hrm", "config { hidden: int = 32; }\npreset p { hidden = 2; }\n");
  const std::string both = dir.write("both.hrm", "import \"a.hrm\";\nimport \"b.hrm\";\nmodel M { fn forward(t: [T] i32) -> [T] { return t; } }\n");
  FrontendOptions o;
  auto r = runFrontend(both, o);
  const std::string d = r->diags.renderToString();
  EXPECT_NE(d.find("config key 'hidden' is declared in both"), std::string::npos) << d;
  EXPECT_NE(d.find("preset 'p' is declared in both"), std::string::npos) << d;
  const std::string retyped = dir.write("retyped.hrm", "import \"a.hrm\";\nconfig { hidden: float = 2.0; }\nmodel M { fn forward(t: [T] i32) -> [T] { return t; } }\n");
  r = runFrontend(retyped, o);
  EXPECT_NE(r->diags.renderToString().find("config key 'hidden' is float here but int in"), std::string::npos)
      << r->diags.renderToString();
}

}  // namespace
