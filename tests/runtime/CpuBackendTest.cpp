// The fused CPU backend (issue 6) against the reference executor and the PyTorch goldens: a model
// using every fused op, and HRM-Text tiny forward, loss and train steps at K = 2..5.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>

#include "compiler/HrmModule.h"
#include "dsl/sema/Sema.h"
#include "runtime/Backends.h"
#include "runtime/cpu/CpuBackend.h"
#include "runtime/reference/ReferenceExecutor.h"
#include "tests/runtime/GoldenCase.h"
#include "tests/runtime/RandomCase.h"

using namespace hrmc;
using namespace hrmc::runtime;
using hrmc::testing::labelResponses;
using hrmc::testing::randomPackedBatch;
using hrmc::testing::randomWeights;
using hrmc::testing::relativeToMax;

namespace {

const char* kFusedOpsModel = R"(
model J {
  param table: [16, 8] = zeros();
  param scale: [8] = zeros();
  fn forward(tokens: [T] i32) -> [T, 16] {
    x = embedding(table, tokens) * 3.0;
    n = rms_norm(x, eps = 1e-5) * scale + sigmoid(x) - silu(x) / (exp(x * 0.1) + 2.0);
    s = softmax(reshape(n, [T, 2, 4]), axis = 2);
    m = max(reshape(n, [T, 4, 2]), axis = 2);
    a, b = split(n, [3, 5]);
    y = concat([b, a], axis = 1) + reshape(s, [T, 8]) + tanh(n) + sqrt(n * n + 1.0)
        + reshape(mean(x, axis = 1) - sum(n, axis = 1), [T, 1]) + concat([m, m], axis = 1);
    return concat([y, -y], axis = 1);
  }
}
)";

// max |a - b| / (1 + |b|) over two tensors of the same shape.
double worstError(const HostTensor<float>& a, const HostTensor<float>& b) {
  EXPECT_EQ(a.shape, b.shape);
  double worst = 0;
  for (size_t i = 0; i < a.data.size() && i < b.data.size(); ++i)
    worst = std::max(worst, std::fabs(double(a.data[i]) - b.data[i]) / (1.0 + std::fabs(b.data[i])));
  return worst;
}

PackedBatch randomTokens(std::mt19937& rng, int T, int vocab) {
  PackedBatch batch;
  for (int t = 0; t < T; ++t) batch.inputs.push_back(static_cast<int32_t>(rng() % vocab));
  batch.labels.assign(batch.inputs.size(), -100);
  batch.seq.positions.assign(batch.inputs.size(), 0);
  batch.seq.prefixLens = {T};
  batch.seq.causalLens = {0};
  batch.seq.build();
  return batch;
}

TEST(CpuBackend, EveryFusedOpMatchesTheReferenceExecutor) {
  std::string text = kFusedOpsModel, error;
  auto fe = dsl::runFrontend("fused.hrm", dsl::FrontendOptions{}, &text);
  ASSERT_TRUE(fe->ok() && fe->graph) << fe->diags.renderToString();
  auto module = compiler::HrmModule::fromGraph(*fe->graph, fe->sources, error);
  ASSERT_TRUE(module && module->runCleanupPipeline(error)) << error;
  std::mt19937 rng(5);
  const WeightMap weights = randomWeights(*module, rng, 1.0f);
  cpu::CpuBackend backend(compilerFor(*module, "cpu"));
  // 13 rows: not a multiple of the row split; 300 rows: split over the threads.
  for (int T : {13, 300}) {
    PackedBatch batch = randomTokens(rng, T, 16);
    const auto want = ReferenceExecutor<float>(*module).run("forward", batch, weights).results;
    const auto got = backend.run("forward", batch, weights);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_LT(worstError(got[0], want[0]), 1e-5) << "T = " << T;
  }
  {  // an out-of-vocabulary token is an error, not an out-of-bounds read
    PackedBatch bad = randomTokens(rng, 4, 16);
    bad.inputs[2] = 99;
    try {
      backend.run("forward", bad, weights);
      ADD_FAILURE() << "an out-of-vocabulary token was not reported";
    } catch (const ExecError& e) {
      EXPECT_NE(std::string(e.what()).find("token id 99 at position 2"), std::string::npos) << e.what();
    }
  }
}

// Each library/fused pattern of the stdlib blocks on its own: forward, loss and the train step (every
// gradient) against the reference.
struct Pattern {
  const char* name;
  const char* body;  // members and forward of a model between an embedding and an output head
};
class CpuPattern : public ::testing::TestWithParam<Pattern> {};

// A pattern's model compiled for `precision`, its weights, a packed batch with labels and its train
// step (no recurrence: differentiate everything).
struct PatternCase {
  std::unique_ptr<dsl::FrontendResult> fe;
  std::unique_ptr<compiler::HrmModule> module;
  WeightMap weights;
  PackedBatch batch;
  std::string trainStep;
};
void buildPattern(const Pattern& pattern, compiler::Precision precision, PatternCase& c) {
  std::string text = std::string("import \"nn.hrm\";\nmodel P {\n  tok: ScaledEmbedding(64, 32);\n") + pattern.body +
                     "  head: Linear(32, 64);\n  objective all_tokens;\n}\n";
  dsl::FrontendOptions o;
  o.stdlibDirs = {HRMC_STDLIB_DIR};
  c.fe = dsl::runFrontend("pattern.hrm", o, &text);
  ASSERT_TRUE(c.fe->ok() && c.fe->graph) << c.fe->diags.renderToString() << text;
  std::string error;
  c.module = compiler::HrmModule::fromGraph(*c.fe->graph, c.fe->sources, error);
  ASSERT_TRUE(c.module && c.module->runCleanupPipeline(error) && c.module->setPrecision(precision, error)) << error;
  std::mt19937 rng(11);
  c.weights = randomWeights(*c.module, rng, 0.0f);
  c.batch = randomPackedBatch(rng, 200, 64);
  for (int t = 0; t + 1 < 200; ++t) c.batch.labels[t] = c.batch.seq.sampleOf[t] >= 0 ? c.batch.inputs[t + 1] : -100;
  c.trainStep = c.module->trainStep(0, error);
  ASSERT_FALSE(c.trainStep.empty()) << error;
}

TEST_P(CpuPattern, MatchesTheReferenceExecutor) {
  PatternCase c;
  ASSERT_NO_FATAL_FAILURE(buildPattern(GetParam(), compiler::Precision::F32, c));
  const auto& [fe, module, weights, batch, trainStep] = c;
  cpu::CpuBackend backend(compilerFor(*module, "cpu"));
  for (const std::string& fn : {std::string("forward"), std::string("loss"), trainStep}) {
    const auto want = ReferenceExecutor<float>(*module).run(fn, batch, weights).results;
    const auto got = backend.run(fn, batch, weights);
    ASSERT_EQ(got.size(), want.size());
    // Large random weights make some of these ill-conditioned: hold the backend to the fp32
    // reference's own distance from the fp64 one (rounding in another order), not to a fixed bound.
    const auto exact = ReferenceExecutor<double>(*module).run(fn, batch, weights).results;
    for (size_t i = 0; i < got.size(); ++i) {
      const HostTensor<float> truth = exact[i].cast<float>();
      EXPECT_LT(worstError(got[i], truth), std::max(2e-6, 3 * worstError(want[i], truth))) << fn << " result " << i;
    }
  }
}

const Pattern kPatterns[] = {
    Pattern{"RmsNormLinear",
                "  fn forward(tokens: [T] i32) -> [T, 64] { return head(rms_norm(tok(tokens), eps = 1e-6)); }\n"},
    Pattern{"SwiGLU",
                "  mlp: SwiGLU(32, 48);\n  fn forward(tokens: [T] i32) -> [T, 64] { x = tok(tokens); return head(x + mlp(x)); }\n"},
    Pattern{"GatedAttention",
                "  attn: GatedAttention(32, 4);\n  fn forward(tokens: [T] i32) -> [T, 64] { x = tok(tokens); return head(x + attn(x)); }\n"},
    Pattern{"SigmoidGate",
                "  fn forward(tokens: [T] i32) -> [T, 64] { x = tok(tokens); return head(sigmoid(x) * x); }\n"},
    Pattern{"PreNormBlock",
                "  blk: TransformerBlock(32, 4, 48);\n  fn forward(tokens: [T] i32) -> [T, 64] { return head(blk(tok(tokens))); }\n"},
    Pattern{"PostNormBlock",
                "  blk: TransformerBlock(32, 4, 48, post);\n  fn forward(tokens: [T] i32) -> [T, 64] { return head(blk(tok(tokens))); }\n"},
    Pattern{"MagicNormStack",
                "  tr: Transformer(32, 4, 48, 2);\n  fn forward(tokens: [T] i32) -> [T, 64] { return head(tr(tok(tokens))); }\n"},
    Pattern{"AttentionHeadSize128",
                "  up: Linear(32, 128);\n  attn: GatedAttention(128, 1);\n  down: Linear(128, 32);\n"
                "  fn forward(tokens: [T] i32) -> [T, 64] { x = tok(tokens); return head(x + down(attn(up(x)))); }\n"},
    Pattern{"StackReused",
                "  tr: Transformer(32, 4, 48, 1);\n  fn forward(tokens: [T] i32) -> [T, 64] { x = tok(tokens); return head(tr(tr(x) + x)); }\n"}};
std::string patternName(const ::testing::TestParamInfo<Pattern>& p) { return p.param.name; }
INSTANTIATE_TEST_SUITE_P(Blocks, CpuPattern, ::testing::ValuesIn(kPatterns), patternName);

// Each block under bf16 (HRM-TEXT.md §1.12) against the fp64 reference executor of the same bf16
// module, which rounds at the same ops: without a recurrence to carry a neighbouring-value rounding
// on, every result is within 2⁻⁶ of its largest magnitude.
class CpuPatternBf16 : public ::testing::TestWithParam<Pattern> {};

TEST_P(CpuPatternBf16, MatchesTheFp64ReferenceExecutor) {
  PatternCase c;
  ASSERT_NO_FATAL_FAILURE(buildPattern(GetParam(), compiler::Precision::BF16, c));
  const auto& [fe, module, weights, batch, trainStep] = c;
  cpu::CpuBackend backend(compilerFor(*module, "cpu"));
  double worst = 0;
  for (const std::string& fn : {std::string("forward"), std::string("loss"), trainStep}) {
    const auto want = ReferenceExecutor<double>(*module).run(fn, batch, weights).results;
    const auto got = backend.run(fn, batch, weights);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      double maxRef = 1e-12, maxAbs = 0;
      for (size_t j = 0; j < want[i].data.size(); ++j) {
        maxRef = std::max(maxRef, std::fabs(want[i].data[j]));
        maxAbs = std::max(maxAbs, std::fabs(got[i].data[j] - want[i].data[j]));
      }
      EXPECT_LE(maxAbs / maxRef, std::ldexp(1.0, -6)) << fn << " result " << i;
      worst = std::max(worst, maxAbs / maxRef);
    }
  }
  std::cout << GetParam().name << " (bf16): worst error " << worst << " of the largest magnitude\n";
}
INSTANTIATE_TEST_SUITE_P(Blocks, CpuPatternBf16, ::testing::ValuesIn(kPatterns), patternName);

using Tiny = hrmc::testing::GoldenCase;

// A label outside the vocabulary is a BatchError naming its position in the whole batch (the losses
// run split over the threads), not an out-of-bounds read or a crash in a worker thread.
TEST(CpuBackend, BadLabelIsAnErrorNamingItsPosition) {
  Tiny t;
  cpu::CpuBackend backend(compilerFor(*t.module, "cpu"));
  PackedBatch bad = t.batch;
  const int64_t at = static_cast<int64_t>(bad.labels.size()) - 3;
  bad.labels[at] = 9999;
  std::string error;
  const std::string trainStep = t.module->trainStep(2, error);
  ASSERT_FALSE(trainStep.empty()) << error;
  for (const std::string& fn : {std::string("loss"), trainStep}) {
    try {
      backend.run(fn, bad, t.weights);
      ADD_FAILURE() << fn << ": a label outside the vocabulary was not reported";
    } catch (const BatchError& e) {
      EXPECT_NE(std::string(e.what()).find("label 9999 at position " + std::to_string(at)), std::string::npos) << e.what();
    }
  }
}

TEST(CpuBackend, TinyLogitsMatchThePyTorchGolden) {
  Tiny t;
  cpu::CpuBackend backend(compilerFor(*t.module, "cpu"));
  const auto logits = backend.run("forward", t.batch, t.weights).at(0);
  const HostTensor<float> want = t.golden.floats("logits");
  ASSERT_EQ(logits.shape, want.shape);
  double worst = 0;
  for (size_t i = 0; i < want.data.size(); ++i) worst = std::max(worst, std::fabs(double(logits.data[i]) - want.data[i]));
  std::cout << "cpu backend: logits max abs error " << worst << "\n";
  EXPECT_LT(worst, 1e-4);
  const auto loss = backend.run("loss", t.batch, t.weights);
  EXPECT_NEAR(loss.at(0).data[0], t.golden.manifest()["loss"].get<double>(), 1e-5);
}

// Every output of the train step at K = 2..5 (loss, metrics and every gradient) as the reference's.
TEST(CpuBackend, TinyTrainStepsMatchTheReferenceExecutor) {
  Tiny t;
  cpu::CpuBackend backend(compilerFor(*t.module, "cpu"));
  for (int K = 2; K <= 5; ++K) {
    std::string error;
    const std::string fn = t.module->trainStep(K, error);
    ASSERT_FALSE(fn.empty()) << error;
    const auto want = ReferenceExecutor<float>(*t.module).run(fn, t.batch, t.weights).results;
    const auto got = backend.run(fn, t.batch, t.weights);
    ASSERT_EQ(got.size(), want.size());
    double worst = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      double maxRef = 1e-12, maxAbs = 0;
      for (size_t j = 0; j < want[i].data.size(); ++j) {
        maxRef = std::max(maxRef, std::fabs(double(want[i].data[j])));
        maxAbs = std::max(maxAbs, std::fabs(double(got[i].data[j]) - want[i].data[j]));
      }
      EXPECT_LE(maxAbs / maxRef, 1e-4) << fn << " result " << i;
      worst = std::max(worst, maxAbs / maxRef);
    }
    std::cout << fn << ": worst error relative to the largest magnitude " << worst << "\n";
  }
}

TEST(CpuBackend, MemoryPlanNeverOverlapsLiveBuffers) {
  Tiny t;
  std::string error;
  const std::string fn = t.module->trainStep(5, error);
  cpu::CpuBackend backend(compilerFor(*t.module, "cpu"));
  ProgramRunner& exec = backend.runner(fn);
  exec.run(t.batch, viewsOf(t.weights));
  const MemoryPlan& plan = exec.plan(t.batch.seq.tokens());
  const size_t n = plan.offsets.size();
  for (size_t a = 0; a < n; ++a)
    for (size_t b = a + 1; b < n; ++b) {
      if (plan.bytes[a] == 0 || plan.bytes[b] == 0) continue;
      const bool together = plan.firstLaunch[a] <= plan.lastLaunch[b] && plan.firstLaunch[b] <= plan.lastLaunch[a];
      const bool overlap = plan.offsets[a] < plan.offsets[b] + plan.bytes[b] && plan.offsets[b] < plan.offsets[a] + plan.bytes[a];
      ASSERT_FALSE(together && overlap) << "values " << a << " and " << b;
    }
  EXPECT_EQ(exec.measuredPeakBytes(), plan.liveBytesPeak);
  EXPECT_GE(plan.arenaBytes, plan.liveBytesPeak);
  EXPECT_LE(plan.arenaBytes, plan.liveBytesPeak * 3 / 2) << "the plan wastes more than half the live set";
}

}  // namespace

namespace {

// Forward, loss and each train step the model's credit window allows, on a packed batch of T slots
// with padding, against the reference executor: every result's largest error at most `tolerance` of
// its largest magnitude. Under bf16 the module is compiled for bf16 and the reference runs it in fp64
// (it rounds the same values to bf16 at the same ops); the forward is also compared with the fp32
// model's, within `vsFp32`.
void expectModelMatchesReference(const std::string& model, const std::string& preset, int T, float stddev,
                                 double tolerance = 1e-4, compiler::Precision precision = compiler::Precision::F32,
                                 double vsFp32 = 0) {
  dsl::FrontendOptions o;
  o.preset = preset;
  o.stdlibDirs = {HRMC_STDLIB_DIR};
  // A name is one of models/; a path (with a '/') is a test model.
  const std::string file = model.find('/') != std::string::npos ? model : std::string(HRMC_MODELS_DIR) + "/" + model + ".hrm";
  auto fe = dsl::runFrontend(file, o);
  ASSERT_TRUE(fe->ok() && fe->graph) << fe->diags.renderToString();
  std::string error;
  auto module = compiler::HrmModule::fromGraph(*fe->graph, fe->sources, error);
  ASSERT_TRUE(module && module->runCleanupPipeline(error)) << error;
  std::mt19937 rng(3);
  const WeightMap weights = randomWeights(*module, rng, stddev);
  PackedBatch batch = randomPackedBatch(rng, T, 512);
  std::vector<HostTensor<float>> fp32Logits;
  if (precision == compiler::Precision::BF16) {
    fp32Logits = ReferenceExecutor<float>(*module).run("forward", batch, weights).results;
    ASSERT_TRUE(module->setPrecision(precision, error)) << error;
  }
  auto reference = [&](const std::string& fn) {
    if (precision == compiler::Precision::F32) return ReferenceExecutor<float>(*module).run(fn, batch, weights).results;
    std::vector<HostTensor<float>> out;
    for (const auto& r : ReferenceExecutor<double>(*module).run(fn, batch, weights).results) out.push_back(r.cast<float>());
    return out;
  };
  labelResponses(batch);
  std::vector<std::string> functions = {"forward", "loss"};
  const auto credit = module->credit();
  // Without a declared window the trainer differentiates through every recurrent step (none: K = 0).
  const int minK = credit.maxSteps > 0 ? credit.minSteps : credit.recurrentSteps;
  const int maxK = credit.maxSteps > 0 ? credit.maxSteps : credit.recurrentSteps;
  // The narrowest and the widest window: the ones between take the same code paths.
  for (int K : minK == maxK ? std::vector<int>{minK} : std::vector<int>{minK, maxK}) {
    const std::string fn = module->trainStep(K, error);
    ASSERT_FALSE(fn.empty()) << error;
    functions.push_back(fn);
  }
  double worst = 0;
  for (const std::string& fn : functions) {
    const auto want = reference(fn);
    // A backend per function: its activation arena goes with it (the full-size presets' train steps
    // each hold gigabytes of per-use weight gradients).
    const auto got = cpu::CpuBackend(compilerFor(*module, "cpu")).run(fn, batch, weights);
    ASSERT_EQ(got.size(), want.size()) << fn;
    for (size_t i = 0; i < got.size(); ++i) {
      const double e = relativeToMax(got[i], want[i]);
      worst = std::max(worst, e);
      EXPECT_LE(e, tolerance) << model << ":" << preset << " " << fn << " result " << i;
    }
    if (fn == "forward" && !fp32Logits.empty()) {
      const double e = relativeToMax(got[0], fp32Logits[0]);
      std::cout << model << ":" << preset << ": bf16 logits vs the fp32 model's: " << e << " of the largest\n";
      EXPECT_LE(e, vsFp32) << model << ":" << preset << " bf16 logits vs fp32";
    }
  }
  std::cout << model << ":" << preset << " (" << compiler::spell(precision) << "): " << functions.size()
            << " functions checked, worst error " << worst << " of the largest magnitude\n";
}

std::string modelTestName(const ::testing::TestParamInfo<const char*>& p) {
  std::string name = p.param;
  name[name.find(':')] = '_';
  return name;
}

// Two recurrent states that start from one bf16 buffer (a regression: sema and the dialect once
// disagreed on the dtype of linear(bf16, f32), so `check` passed and `compile` failed).
TEST(CpuModelRegression, TwoBf16StatesCompileAndMatchTheReferenceExecutor) {
  expectModelMatchesReference(std::string(HRMC_TEST_MODELS_DIR) + "/two_bf16_states.hrm", "tiny", 100, 0.05f);
}

// bf16 operands of matmul and linear (a bf16 state times bf16 buffers) run on the CPU's bf16 products
// (they were read as fp32: relative error 6e21). Both executors round the same fp32-accurate values
// to bf16, but sums in another order can round to the neighbouring bf16 value (2⁻⁸ relative), which
// later ops carry: tolerance 2⁻⁷ of the largest magnitude (fp32 models: 1e-4).
TEST(CpuModelRegression, Bf16ProductOperandsMatchTheReferenceExecutor) {
  expectModelMatchesReference(std::string(HRMC_TEST_MODELS_DIR) + "/bf16_products.hrm", "tiny", 100, 0.05f,
                              std::ldexp(1.0, -7));
}

// Explicit casts in an fp32 model (a bf16 state kept by cast, a round trip through bf16) and a
// declared L-first split: the CPU backend rounds where the reference executor does. Tolerance as for
// the bf16 products above: a sum in another order can round to the neighbouring bf16 value.
TEST(CpuModelRegression, CastsMatchTheReferenceExecutor) {
  expectModelMatchesReference(std::string(HRMC_TEST_MODELS_DIR) + "/casts.hrm", "tiny", 100, 0.05f, std::ldexp(1.0, -7));
}

// Every model in models/ at its tiny preset (and HRM-Text at small) on 300 slots.
class CpuModel : public ::testing::TestWithParam<const char*> {};

TEST_P(CpuModel, MatchesTheReferenceExecutor) {
  const std::string param = GetParam();  // model:preset
  expectModelMatchesReference(param.substr(0, param.find(':')), param.substr(param.find(':') + 1), 300, 0.05f);
}

INSTANTIATE_TEST_SUITE_P(Models, CpuModel,
                         ::testing::Values("hrm_text:tiny", "hrm_text:small", "transformer:tiny", "ut:tiny", "rins:tiny",
                                           "trm:tiny", "hrm3:tiny"),
                         modelTestName);

// The same under bf16 mixed precision (HRM-TEXT.md §1.12), against the fp64 reference executor of the
// bf16 module: both round the same values at the same ops, but a sum in another order can round to the
// neighbouring bf16 value (2⁻⁸ relative), which the recurrence carries on; tolerance 2⁻⁴ of each
// result's largest magnitude. The bf16 logits stay within 2⁻³ of the fp32 model's.
class CpuModelBf16 : public ::testing::TestWithParam<const char*> {};

TEST_P(CpuModelBf16, MatchesTheFp64ReferenceExecutor) {
  const std::string param = GetParam();
  expectModelMatchesReference(param.substr(0, param.find(':')), param.substr(param.find(':') + 1), 300, 0.05f,
                              std::ldexp(1.0, -4), compiler::Precision::BF16, std::ldexp(1.0, -3));
}

INSTANTIATE_TEST_SUITE_P(Models, CpuModelBf16,
                         ::testing::Values("hrm_text:tiny", "hrm_text:small", "transformer:tiny", "ut:tiny", "rins:tiny",
                                           "trm:tiny", "hrm3:tiny"),
                         modelTestName);

// The full-size presets whose check fits in 24 GiB (peak 7.3 GiB for B, 18.4 for L; XL and the XXL ones
// would need 29 GiB and more for the weights, both executors' gradients and the activations) on 24
// slots, weights at the reference's LeCun scale: minutes each on the reference executor, so only with
// HRMC_TEST_LARGE=1.
class CpuModelLarge : public ::testing::TestWithParam<const char*> {};

TEST_P(CpuModelLarge, MatchesTheReferenceExecutor) {
  if (!std::getenv("HRMC_TEST_LARGE")) GTEST_SKIP() << "set HRMC_TEST_LARGE=1 to run (minutes per model)";
  const std::string param = GetParam();
  expectModelMatchesReference(param.substr(0, param.find(':')), param.substr(param.find(':') + 1), 24, 0.0f);
}

INSTANTIATE_TEST_SUITE_P(Models, CpuModelLarge,
                         ::testing::Values("hrm_text:B", "hrm_text:L", "transformer:B", "ut:B", "rins:B", "trm:B",
                                           "transformer:L", "ut:L", "rins:L", "trm:L"),
                         modelTestName);

}  // namespace

namespace {

// The on-disk kernel cache: a second compile of the same function loads the object code; a corrupt
// or truncated entry is recompiled, and the results stay right either way.
TEST(KernelCache, ReusesEntriesAndRecompilesCorruptOnes) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("hrmc-cache-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  ::setenv("HRMC_CACHE_DIR", dir.c_str(), 1);
  auto compileTiny = [](std::unique_ptr<hrmc::testing::GoldenCase>& t) {
    t = std::make_unique<hrmc::testing::GoldenCase>();
    std::string error;
    const auto* compiled = t->module->compile("forward", "cpu", error);
    EXPECT_TRUE(compiled) << error;
    return compiled;
  };
  auto logitsError = [](hrmc::testing::GoldenCase& t) {
    cpu::CpuBackend backend(compilerFor(*t.module, "cpu"));
    return worstError(backend.run("forward", t.batch, t.weights).at(0), t.golden.floats("logits"));
  };
  std::unique_ptr<hrmc::testing::GoldenCase> a, b, c, d;
  const auto* first = compileTiny(a);
  ASSERT_TRUE(first);
  EXPECT_FALSE(first->fromCache);
  EXPECT_EQ(first->cacheMiss, "no entry");
  std::vector<std::filesystem::path> entries;
  for (const auto& e : std::filesystem::directory_iterator(dir)) entries.push_back(e.path());
  ASSERT_EQ(entries.size(), 1u) << "one object file per compiled function";

  const auto* second = compileTiny(b);
  ASSERT_TRUE(second);
  EXPECT_TRUE(second->fromCache);
  EXPECT_LT(logitsError(*b), 1e-5);

  {  // flip one byte of the object code: the checksum catches it
    std::fstream f(entries[0], std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(100);
    char byte = 0;
    f.read(&byte, 1);
    f.seekp(100);
    byte = static_cast<char>(byte ^ 0x5a);
    f.write(&byte, 1);
  }
  const auto* third = compileTiny(c);
  ASSERT_TRUE(third);
  EXPECT_FALSE(third->fromCache);
  EXPECT_NE(third->cacheMiss.find("checksum"), std::string::npos) << third->cacheMiss;
  EXPECT_LT(logitsError(*c), 1e-5);

  std::filesystem::resize_file(entries[0], 10);  // truncated (the corrupt entry was replaced meanwhile)
  const auto* fourth = compileTiny(d);
  ASSERT_TRUE(fourth);
  EXPECT_FALSE(fourth->fromCache);
  EXPECT_LT(logitsError(*d), 1e-5);

  ::unsetenv("HRMC_CACHE_DIR");
  std::filesystem::remove_all(dir);
}

}  // namespace

namespace {

// Generation's KV cache (HRM-TEXT.md §5.2): forward over a prompt, then one token at a time, gives
// the logits a full forward of the whole sequence gives at those positions.
TEST(KvCache, IncrementalForwardMatchesFullForward) {
  hrmc::testing::GoldenCase t;
  cpu::CpuBackend backend(compilerFor(*t.module, "cpu"));
  auto cached = backend.incrementalForward(t.weights);
  ASSERT_TRUE(cached) << "the tiny HRM-Text works row by row outside attention";
  std::mt19937 rng(9);
  const std::vector<int> promptLens = {7, 3};
  std::vector<std::vector<int32_t>> tokens(2);
  for (int s = 0; s < 2; ++s)
    for (int i = 0; i < promptLens[s] + 5; ++i) tokens[s].push_back(static_cast<int32_t>(rng() % 256));
  // The full forward: both sequences packed, prompt as prefix, the rest causal.
  PackedBatch full;
  for (int s = 0; s < 2; ++s) {
    full.inputs.insert(full.inputs.end(), tokens[s].begin(), tokens[s].end());
    for (size_t p = 0; p < tokens[s].size(); ++p) full.seq.positions.push_back(static_cast<int32_t>(p));
    full.seq.prefixLens.push_back(promptLens[s]);
    full.seq.causalLens.push_back(static_cast<int32_t>(tokens[s].size()) - promptLens[s]);
  }
  full.labels.assign(full.inputs.size(), -100);
  full.seq.build();
  const HostTensor<float> want = ReferenceExecutor<float>(*t.module).run("forward", full, t.weights).results.at(0);
  const int64_t V = want.shape[1];
  double worst = 0;
  for (size_t at = 0; at < tokens[0].size() - promptLens[0] + 1; ++at) {
    PackedBatch step;  // first the prompts, then one token of each
    for (int s = 0; s < 2; ++s) {
      const size_t from = at == 0 ? 0 : promptLens[s] + at - 1, to = at == 0 ? promptLens[s] : from + 1;
      for (size_t p = from; p < to; ++p) {
        step.inputs.push_back(tokens[s][p]);
        step.seq.positions.push_back(static_cast<int32_t>(p));
      }
      step.seq.prefixLens.push_back(static_cast<int32_t>(to - from));
      step.seq.causalLens.push_back(0);
    }
    step.labels.assign(step.inputs.size(), -100);
    step.seq.build();
    const HostTensor<float> got = cached->run(step, {0, 1});
    ASSERT_EQ(got.shape[0], step.seq.tokens());
    for (int s = 0; s < 2; ++s) {
      const int64_t row = step.seq.starts[s] + step.seq.prefixLens[s] - 1;  // the newest token
      const int64_t pos = step.seq.positions[row];
      const int64_t fullRow = full.seq.starts[s] + pos;
      for (int64_t v = 0; v < V; ++v)
        worst = std::max(worst, std::fabs(double(got.data[row * V + v]) - want.data[fullRow * V + v]));
    }
  }
  std::cout << "KV-cache logits vs full forward: max abs difference " << worst << "\n";
  EXPECT_LT(worst, 1e-4);
}

}  // namespace
