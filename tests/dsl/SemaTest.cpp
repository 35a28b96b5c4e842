#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

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

}  // namespace
