// AdamATan2 against the PyTorch golden step, and the credit-window and learning-rate schedules.
#include <gtest/gtest.h>

#include <cmath>

#include "runtime/io/ArrayDir.h"
#include "runtime/train/Optimizer.h"

using namespace hrmc::runtime;

namespace {

TEST(AdamAtan2, OneStepMatchesPyTorch) {
  ArrayDir golden(std::string(HRMC_GOLDEN_DIR) + "/tiny");
  auto params = golden.named("params_init");
  auto grads = golden.named("grads_bp5");
  auto want = golden.named("params_after_adamatan2_step_bp5");
  AdamAtan2 opt({0.9, 0.95, 0.1, 0.999}, params);
  opt.step(params, grads, 1e-3);
  double worst = 0;
  for (const auto& [name, p] : params) {
    const HostTensor<float>& w = want.at(name);
    for (size_t i = 0; i < p.data.size(); ++i) worst = std::max(worst, std::fabs(double(p.data[i]) - w.data[i]));
  }
  EXPECT_LE(worst, 1e-6);
  // The update is real: |Δp| is up to lr·π/2 (HRM-TEXT.md §4.1).
  auto init = golden.named("params_init");
  double moved = 0;
  for (const auto& [name, p] : params)
    for (size_t i = 0; i < p.data.size(); ++i) moved = std::max(moved, std::fabs(double(p.data[i]) - init.at(name).data[i]));
  EXPECT_GT(moved, 1e-3);
  EXPECT_LT(moved, 1e-3 * M_PI / 2 + 1e-4);
}

TEST(AdamAtan2, ParametersWithoutGradientAreSkippedEntirely) {
  std::map<std::string, HostTensor<float>> params{{"a", HostTensor<float>({2}, 1.0f)}, {"b", HostTensor<float>({2}, 1.0f)}};
  AdamAtan2 opt({0.9, 0.95, 0.1, 0.5}, params);
  opt.step(params, {{"a", HostTensor<float>({2}, 0.5f)}}, 0.1);
  EXPECT_EQ(params["b"].data[0], 1.0f);  // no decay either
  EXPECT_EQ(opt.state()["b"].step, 0.0f);
  EXPECT_EQ(opt.state()["a"].step, 1.0f);
  EXPECT_LT(params["a"].data[0], 1.0f);
  EXPECT_FLOAT_EQ(opt.state()["a"].ema.data[0], 0.5f * (1.0f + params["a"].data[0]));
}

TEST(Schedules, CreditWindowStaircase) {
  // total 1000, warm-up 20% = 200 steps: K = 2 below 1/3 of it, 3 below 2/3, 4 below 200, then 5.
  auto K = [](int64_t s) { return creditWindowAt(s, 1000, 2, 5, 0.2); };
  EXPECT_EQ(K(1), 2);
  EXPECT_EQ(K(66), 2);
  EXPECT_EQ(K(67), 3);
  EXPECT_EQ(K(133), 3);
  EXPECT_EQ(K(134), 4);
  EXPECT_EQ(K(199), 4);
  EXPECT_EQ(K(200), 5);
  EXPECT_EQ(K(5000), 5);
  EXPECT_EQ(creditWindowAt(1, 1000, 2, 5, 0.0), 5);  // SFT: no warm-up
}

TEST(Schedules, LearningRateWarmupThenCosine) {
  EXPECT_DOUBLE_EQ(learningRateAt(5, 100, 1e-3, 0.1, 10), 5e-4);
  EXPECT_DOUBLE_EQ(learningRateAt(10, 100, 1e-3, 0.1, 10), 1e-3);
  EXPECT_NEAR(learningRateAt(55, 100, 1e-3, 0.1, 10), 1e-3 * (0.1 + 0.9 * 0.5), 1e-12);
  EXPECT_NEAR(learningRateAt(100, 100, 1e-3, 0.1, 10), 1e-4, 1e-12);
  EXPECT_DOUBLE_EQ(learningRateAt(3000, 100, 2.2e-4, 1.0, 2000), 2.2e-4);  // pretraining: constant after warm-up
}

}  // namespace
