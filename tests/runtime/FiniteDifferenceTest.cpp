// Finite-difference checks of every VJP rule in fp64: the train step's gradient against central
// differences of its loss, for small models built around each primitive, and for the micro HRM-Text
// model at K = 2 and K = 5 and the three-level model at K = 3 and K = 6 (forward-only steps held at
// their values, as truncated backprop defines).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "compiler/HrmModule.h"
#include "dsl/sema/Sema.h"
#include "runtime/io/ArrayDir.h"
#include "runtime/reference/ReferenceExecutor.h"

using namespace hrmc;
using namespace hrmc::runtime;

namespace {

// Two samples (P=3, C=2 and P=2, C=3) and two padding slots; token 5 repeats; some labels ignored.
PackedBatch testBatch() {
  PackedBatch b;
  b.inputs = {1, 5, 3, 5, 7, 2, 5, 9, 11, 5, 0, 0};
  b.labels = {-100, -100, 4, 6, 8, -100, 10, 12, 14, 3, -100, -100};
  b.seq.positions = {0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 0};
  b.seq.prefixLens = {3, 2};
  b.seq.causalLens = {2, 3};
  b.seq.build();
  return b;
}

struct Compiled {
  std::unique_ptr<dsl::FrontendResult> fe;
  std::unique_ptr<compiler::HrmModule> module;
};

Compiled compile(const std::string& text, const std::string& file = "t.hrm", const std::string& preset = "",
                 std::vector<dsl::ConfigOverride> overrides = {}) {
  Compiled c;
  dsl::FrontendOptions o;
  o.stdlibDirs = {HRMC_STDLIB_DIR};
  o.preset = preset;
  o.overrides = std::move(overrides);
  c.fe = text.empty() ? dsl::runFrontend(file, o) : dsl::runFrontend(file, o, &text);
  EXPECT_TRUE(c.fe->ok() && c.fe->graph) << c.fe->diags.renderToString();
  std::string error;
  c.module = compiler::HrmModule::fromGraph(*c.fe->graph, c.fe->sources, error);
  EXPECT_TRUE(c.module && c.module->runCleanupPipeline(error)) << error;
  return c;
}

WeightMap randomWeights(const dsl::ModelGraph& g, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, 0.5f);
  WeightMap w;
  for (const dsl::Weight& wt : g.weights) {
    HostTensor<float> t(std::vector<int64_t>(wt.type.dims.begin(), wt.type.dims.end()));
    for (float& x : t.data) x = n(rng);
    w[wt.name] = t;
  }
  return w;
}

// Compares the train step's gradient with central differences at `samples` coordinates per weight.
void checkAgainstFiniteDifferences(Compiled& c, const WeightMap& weights, const PackedBatch& batch, int K,
                                   int samples = 4) {
  std::string error;
  const std::string fn = c.module->trainStep(K, error);
  ASSERT_FALSE(fn.empty()) << error;
  ReferenceExecutor<double> exec(*c.module);
  auto base = exec.run(fn, batch, weights);
  // Steps still present in the train step are the forward-only ones: hold them at these values.
  ReferenceExecutor<double>::FrozenSteps frozen(base.steps.begin(), base.steps.end());
  const std::vector<std::string> names = c.module->gradientNames(fn);
  std::mt19937 rng(7);
  int checked = 0;
  for (const dsl::Weight& w : c.fe->graph->weights) {
    if (!w.trainable) continue;
    auto it = std::find(names.begin(), names.end(), w.name);
    const HostTensor<double>* grad = it == names.end() ? nullptr : &base.results[3 + (it - names.begin())];
    for (int s = 0; s < samples; ++s) {
      WeightMap p = weights;
      HostTensor<float>& t = p[w.name];
      const size_t i = std::uniform_int_distribution<size_t>(0, t.data.size() - 1)(rng);
      // Perturb in double: the weights are fp32, so step by a representable amount and measure it. A
      // step of 1e-4 keeps the central difference's truncation error (h²·f'''/6) well inside the tolerance
      // for the deepest composition here (the three-level model's 14 steps); the fp64 loss keeps the
      // rounding error near 1e-12.
      const float x0 = t.data[i];
      const float up = x0 + 1e-4f, down = x0 - 1e-4f;
      t.data[i] = up;
      const double lossUp = exec.run(fn, batch, p, &frozen).results[0].data[0];
      t.data[i] = down;
      const double lossDown = exec.run(fn, batch, p, &frozen).results[0].data[0];
      const double fd = (lossUp - lossDown) / (double(up) - double(down));
      const double analytic = grad ? grad->data[i] : 0.0;
      EXPECT_NEAR(analytic, fd, 2e-6 + 2e-4 * std::fabs(fd)) << w.name << "[" << i << "] at K=" << K;
      ++checked;
    }
  }
  EXPECT_GT(checked, 0);
}

// A model with one weight table, a head, and the primitive under test in between.
std::string model(const std::string& members, const std::string& body, const std::string& decls = "") {
  return decls + "\nmodel P {\n  param table: [16, 8] = zeros();\n  param head: [16, 8] = zeros();\n" + members +
         "\n  fn forward(tokens: [T] i32) -> [T, 16] {\n    x = embedding(table, tokens);\n" + body +
         "\n    return linear(y, head);\n  }\n}\n";
}

struct Case {
  const char* name;
  std::string text;
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::vector<Case> primitiveCases() {
  const std::string qkv =
      "  param wq: [8, 8] = zeros();\n  param wk: [8, 8] = zeros();\n  param wv: [8, 8] = zeros();\n";
  auto attention = [&](const char* mask) {
    return model(qkv,
                 std::string("    q = rope(reshape(linear(x, wq), [T, 2, 4]), theta = 100.0);\n"
                             "    k = rope(reshape(linear(x, wk), [T, 2, 4]), theta = 100.0);\n"
                             "    v = reshape(linear(x, wv), [T, 2, 4]);\n"
                             "    y = reshape(attention(q, k, v, mask = ") + mask + "), [T, 8]);");
  };
  return {
      {"attention_prefixlm", attention("prefixlm")},
      {"attention_causal", attention("causal")},
      {"attention_full", attention("full")},
      {"rms_norm", model("", "    y = rms_norm(x * 3.0, eps = 1e-6);")},
      {"unary", model("", "    y = sigmoid(x) + silu(x) + exp(x * 0.3) + tanh(x) + sqrt(x * x + 1.0) - (-x);")},
      {"broadcast_arith", model("  param scale: [8] = zeros();\n  param bias: [1] = zeros();\n",
                                "    y = x * scale / (scale * scale + 2.0) - bias + x / 3.0;")},
      {"softmax_sum_mean", model("", "    s = softmax(reshape(x, [T, 2, 4]), axis = 2);\n"
                                     "    m = mean(reshape(x, [T, 2, 4]), axis = 2);\n"
                                     "    y = reshape(s, [T, 8]) * reshape(sum(x, axis = 1), [T, 1]) + concat([m, m, m, m], axis = 1);")},
      {"split_concat_matmul", model("  param w: [8, 8] = zeros();\n", "    a, b = split(x @ w, [3, 5]);\n"
                                                                     "    y = concat([b * b, a], axis = -1);")},
      {"max", model("", "    m = max(reshape(x, [T, 2, 4]), axis = 2);\n    y = x * concat([m, m, m, m], axis = 1);")},
      {"broadcast_to", model("  param start: [8] = zeros();\n", "    y = x + broadcast_to(start, [T, 8]) * x;")},
  };
}

class Primitive : public testing::TestWithParam<Case> {};

TEST_P(Primitive, VjpMatchesFiniteDifferences) {
  Compiled c = compile(GetParam().text);
  ASSERT_TRUE(c.module);
  checkAgainstFiniteDifferences(c, randomWeights(*c.fe->graph, 11), testBatch(), 1, 6);
}

INSTANTIATE_TEST_SUITE_P(Fp64, Primitive, testing::ValuesIn(primitiveCases()),
                         [](const testing::TestParamInfo<Case>& i) { return i.param.name; });

TEST(StopGradient, BlocksTheGradientOfWhatItWraps) {
  Compiled c = compile(model("  param hidden: [8] = zeros();\n", "    y = x + stop_gradient(x * hidden);"));
  std::string error;
  const std::string fn = c.module->trainStep(1, error);
  std::vector<std::string> names = c.module->gradientNames(fn);
  EXPECT_EQ(names, (std::vector<std::string>{"table", "head"}));  // `hidden` only feeds stop_gradient
}

// The whole HRM-Text model (micro preset) with the golden weights: truncated backprop at K = 2 and K = 5.
TEST(GoldenHrmText, TrainStepMatchesFiniteDifferencesAtK2AndK5) {
  Compiled c = compile("", std::string(HRMC_MODELS_DIR) + "/hrm_text.hrm", "micro");
  ArrayDir golden(std::string(HRMC_GOLDEN_DIR) + "/micro");
  WeightMap w = golden.named("params_init");
  w["model.zL_init"] = golden.floats("zL_init");
  PackedBatch batch = golden.batch();
  for (int K : {2, 5}) checkAgainstFiniteDifferences(c, w, batch, K, 2);
}

// The three-level model (models/hrm3.hrm) at a micro size: 14 steps over levels G, H and L, so a
// window reaches steps of every level; K = 3 (one step each) and K = 6 (G 2, H 3, L 1).
TEST(ThreeLevels, TrainStepMatchesFiniteDifferencesAtK3AndK6) {
  Compiled c = compile("", std::string(HRMC_MODELS_DIR) + "/hrm3.hrm", "",
                       {{"hidden", "16"}, {"heads", "2"}, {"layers", "3"}, {"vocab", "16"}, {"max_seq_len", "16"}});
  ASSERT_EQ(c.fe->graph->levels, (std::vector<std::string>{"G", "H", "L"}));
  const WeightMap w = randomWeights(*c.fe->graph, 11);
  for (int K : {3, 6}) checkAgainstFiniteDifferences(c, w, testBatch(), K, 2);
}

}  // namespace
