// Backend stages 1 + 2 (in progress): a model made of the ops lowered so far, JIT-compiled through
// linalg → loops → LLVM, gives the reference executor's values.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <random>

#include "compiler/HrmModule.h"
#include "dsl/sema/Sema.h"
#include "runtime/reference/ReferenceExecutor.h"

using namespace hrmc;
using namespace hrmc::runtime;

namespace {

const char* kModel = R"(
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

std::unique_ptr<compiler::HrmModule> compile(std::unique_ptr<dsl::FrontendResult>& fe) {
  std::string text = kModel;
  fe = dsl::runFrontend("jit.hrm", dsl::FrontendOptions{}, &text);
  EXPECT_TRUE(fe->ok() && fe->graph) << fe->diags.renderToString();
  std::string error;
  auto m = compiler::HrmModule::fromGraph(*fe->graph, fe->sources, error);
  EXPECT_TRUE(m && m->runCleanupPipeline(error)) << error;
  return m;
}

TEST(CpuJit, LoweredModelMatchesTheReferenceExecutor) {
  std::unique_ptr<dsl::FrontendResult> feA, feB;
  auto reference = compile(feA);
  auto lowered = compile(feB);
  std::string error;
  ASSERT_TRUE(lowered->lowerElementwiseToLinalg(error)) << error;
  auto fn = lowered->jit("forward", error);
  ASSERT_TRUE(fn) << error;

  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  WeightMap weights;
  std::vector<compiler::JitFunction::Buffer> args;
  PackedBatch batch;
  for (int t = 0; t < 13; ++t) batch.inputs.push_back(static_cast<int32_t>(rng() % 16));
  batch.labels.assign(batch.inputs.size(), -100);
  batch.seq.positions.assign(batch.inputs.size(), 0);
  batch.seq.prefixLens = {13};
  batch.seq.causalLens = {0};
  batch.seq.build();
  args.push_back({batch.inputs.data(), {13}});
  for (const auto& w : reference->weights()) {
    HostTensor<float> t(w.shape);
    for (float& x : t.data) x = normal(rng);
    weights[w.name] = std::move(t);
  }
  for (const auto& w : reference->weights()) args.push_back({weights[w.name].data.data(), w.shape});

  const HostTensor<float> want = ReferenceExecutor<float>(*reference).run("forward", batch, weights).results.at(0);
  compiler::JitFunction::Buffer got;
  ASSERT_TRUE(fn->call(args, got, error)) << error;
  ASSERT_EQ(got.sizes, want.shape);
  const float* g = static_cast<const float*>(got.data);
  double worst = 0;
  for (size_t i = 0; i < want.data.size(); ++i)
    worst = std::max(worst, std::fabs(double(g[i]) - want.data[i]) / (1.0 + std::fabs(want.data[i])));
  std::free(got.allocation);
  EXPECT_LT(worst, 1e-5);
}

TEST(CpuJit, UnloweredOpsAreReportedNotMiscompiled) {
  dsl::FrontendOptions o;
  o.preset = "tiny";
  o.stdlibDirs = {HRMC_STDLIB_DIR};
  auto fe = dsl::runFrontend(std::string(HRMC_MODELS_DIR) + "/hrm_text.hrm", o);
  std::string error;
  auto m = compiler::HrmModule::fromGraph(*fe->graph, fe->sources, error);
  ASSERT_TRUE(m && m->lowerElementwiseToLinalg(error)) << error;
  EXPECT_FALSE(m->jit("forward", error));
  EXPECT_NE(error.find("packed sequence"), std::string::npos) << error;
}

}  // namespace
