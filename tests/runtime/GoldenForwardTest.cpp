// The reference executor against the PyTorch goldens of tests/golden/micro (issue: dialect +
// reference executor): logits, per-token CE, loss and the state after every recurrent step.
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>

#include "tests/runtime/GoldenCase.h"
#include "compiler/HrmModule.h"
#include "dsl/sema/Sema.h"
#include "runtime/io/ArrayDir.h"
#include "runtime/reference/ReferenceExecutor.h"
#include "runtime/reference/ReferenceKernels.h"

using namespace hrmc;
using namespace hrmc::runtime;

namespace {


struct Compared {
  double maxAbs = 0;
  double maxRef = 0;
  double rel() const { return maxRef > 0 ? maxAbs / maxRef : maxAbs; }
};

template <typename Real>
Compared compare(const std::vector<Real>& got, const std::vector<float>& want) {
  EXPECT_EQ(got.size(), want.size());
  Compared c;
  for (size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
    c.maxAbs = std::max(c.maxAbs, std::fabs(double(got[i]) - double(want[i])));
    c.maxRef = std::max(c.maxRef, std::fabs(double(want[i])));
  }
  return c;
}

// HRM-Text at the micro preset lowered to hrm, the golden weights and batch.
using TinyCase = hrmc::testing::GoldenCase;

template <typename Real>
void checkForward(double absTol, double relTol) {
  TinyCase c;
  ReferenceExecutor<Real> exec(*c.module);
  auto fwd = exec.run("forward", c.batch, c.weights);
  ASSERT_EQ(fwd.results.size(), 1u);
  const HostTensor<Real>& logits = fwd.results[0];
  HostTensor<float> want = c.golden.floats("logits");
  ASSERT_EQ(logits.shape, want.shape);
  Compared l = compare(logits.data, want.data);
  std::cout << "logits: max abs error " << l.maxAbs << ", relative " << l.rel() << " (max |logit| " << l.maxRef << ")\n";
  EXPECT_LE(l.maxAbs, absTol) << "logits";
  EXPECT_LE(l.rel(), relTol) << "logits";

  // Every recurrent step's new state, in execution order (zL_0, zL_1, zL_2, zH_0, zL_3, ...).
  ASSERT_EQ(fwd.steps.size(), 8u);
  for (const auto& [label, value] : fwd.steps) {
    const std::string key = std::string("trace_z") + label[0] + "_" + label.substr(1);
    Compared s = compare(value.data, c.golden.floats(key).data);
    EXPECT_LE(s.maxAbs, absTol) << key;
    EXPECT_LE(s.rel(), relTol) << key;
  }

  // Per-token CE of those logits, and the loss function's loss.
  std::vector<Real> ce(c.batch.inputs.size());
  ref::crossEntropy(logits.data.data(), c.batch.labels.data(), ce.data(), logits.shape[0], logits.shape[1]);
  Compared t = compare(ce, c.golden.floats("token_ce").data);
  EXPECT_LE(t.maxAbs, absTol) << "token_ce";
  EXPECT_LE(t.rel(), relTol) << "token_ce";

  auto loss = exec.run("loss", c.batch, c.weights);
  ASSERT_EQ(loss.results.size(), 3u);
  const double wantLoss = c.golden.manifest()["loss"].get<double>();
  EXPECT_NEAR(double(loss.results[0].data[0]), wantLoss, absTol);
  EXPECT_LE(std::fabs(double(loss.results[0].data[0]) - wantLoss) / wantLoss, relTol);
  // Accuracy metrics are fractions of the 19 valid labels / 3 samples.
  EXPECT_GE(double(loss.results[1].data[0]), 0.0);
  EXPECT_LE(double(loss.results[1].data[0]), 1.0);
}

TEST(GoldenTiny, ForwardMatchesPyTorchInFp32) { checkForward<float>(1e-4, 1e-3); }

// fp64 runs the same semantics without fp32 rounding: it matches the fp32 golden to fp32 precision.
TEST(GoldenTiny, ForwardMatchesPyTorchInFp64) { checkForward<double>(1e-4, 1e-4); }

TEST(GoldenTiny, Fp32AndFp64AgreeClosely) {
  TinyCase c;
  auto f = ReferenceExecutor<float>(*c.module).run("forward", c.batch, c.weights);
  auto d = ReferenceExecutor<double>(*c.module).run("forward", c.batch, c.weights);
  double maxAbs = 0;
  for (size_t i = 0; i < f.results[0].data.size(); ++i)
    maxAbs = std::max(maxAbs, std::fabs(double(f.results[0].data[i]) - d.results[0].data[i]));
  EXPECT_LT(maxAbs, 1e-4);
  EXPECT_GT(maxAbs, 0.0);  // they are different computations
}

TEST(GoldenTiny, MissingAndMisshapedWeightsAreReportedByName) {
  TinyCase c;
  ReferenceExecutor<float> exec(*c.module);
  WeightMap w = c.weights;
  w.erase("lm_head.weight");
  try {
    exec.run("forward", c.batch, w);
    FAIL() << "expected an error";
  } catch (const ExecError& e) {
    EXPECT_STREQ(e.what(), "weight 'lm_head.weight' is missing");
  }
  w = c.weights;
  w["model.zL_init"] = HostTensor<float>({32});
  try {
    exec.run("forward", c.batch, w);
    FAIL() << "expected an error";
  } catch (const ExecError& e) {
    EXPECT_STREQ(e.what(), "weight 'model.zL_init' has shape [32] but the model needs [64]");
  }
}

TEST(GoldenTiny, OutOfVocabularyTokenIsAnError) {
  TinyCase c;
  c.batch.inputs[3] = 9999;
  EXPECT_THROW(ReferenceExecutor<float>(*c.module).run("forward", c.batch, c.weights), ExecError);
}

}  // namespace
