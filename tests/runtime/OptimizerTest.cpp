// AdamATan2: the reference update against the PyTorch golden step, the CPU backend's threaded and
// vectorised update bit-for-bit against the reference, and the credit-window and learning-rate
// schedules.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "runtime/cpu/TrainingKernels.h"
#include "runtime/data/Packing.h"
#include "runtime/io/ArrayDir.h"
#include "runtime/reference/ReferenceTraining.h"
#include "runtime/tensor/HostTensor.h"
#include "runtime/train/Schedules.h"

using namespace hrmc::runtime;

namespace {

using Update = void (*)(const AdamAtan2Tensors&, int64_t, const AdamAtan2Step&);

// One step of `update` over every golden parameter; the updated parameters and state.
WeightMap stepGolden(Update update, OptimizerState& state) {
  ArrayDir golden(std::string(HRMC_GOLDEN_DIR) + "/micro");
  WeightMap params = golden.named("params_init");
  WeightMap grads = golden.named("grads_bp5");
  const AdamAtan2Config config{0.9, 0.95, 0.1, 0.999};
  state = freshOptimizerState(config, params);
  for (auto& [name, p] : params) {
    ParamState& s = state.at(name);
    s.step += 1.0f;
    update({p.data.data(), grads.at(name).data.data(), s.expAvg.data.data(), s.expAvgSq.data.data(), s.ema.data.data()},
           p.numel(), adamAtan2Step(config, s.step, 1e-3));
  }
  return params;
}

TEST(AdamAtan2, OneStepMatchesPyTorch) {
  ArrayDir golden(std::string(HRMC_GOLDEN_DIR) + "/micro");
  const WeightMap want = golden.named("params_after_adamatan2_step_bp5");
  const WeightMap init = golden.named("params_init");
  OptimizerState refState, cpuState;
  const WeightMap ref = stepGolden(referenceAdamAtan2, refState);
  const WeightMap cpu = stepGolden(cpu::adamAtan2, cpuState);
  double worst = 0, moved = 0;
  for (const auto& [name, p] : ref) {
    for (size_t i = 0; i < p.data.size(); ++i) {
      worst = std::max(worst, std::fabs(double(p.data[i]) - want.at(name).data[i]));
      moved = std::max(moved, std::fabs(double(p.data[i]) - init.at(name).data[i]));
    }
    EXPECT_EQ(0, std::memcmp(p.data.data(), cpu.at(name).data.data(), p.data.size() * sizeof(float))) << name;
    EXPECT_EQ(0, std::memcmp(refState.at(name).ema.data.data(), cpuState.at(name).ema.data.data(),
                             p.data.size() * sizeof(float)))
        << name;
  }
  EXPECT_LE(worst, 1e-6);
  // The update is real: |Δp| is up to lr·π/2 (HRM-TEXT.md §4.1).
  EXPECT_GT(moved, 1e-3);
  EXPECT_LT(moved, 1e-3 * M_PI / 2 + 1e-4);
}

TEST(AdamAtan2, EmaFollowsTheUpdatedWeights) {
  const AdamAtan2Config config{0.9, 0.95, 0.1, 0.5};
  float w[2] = {1, 1}, g[2] = {0.5f, -0.5f}, m[2] = {0, 0}, v[2] = {0, 0}, ema[2] = {1, 1};
  referenceAdamAtan2({w, g, m, v, ema}, 2, adamAtan2Step(config, 1.0f, 0.1));
  EXPECT_LT(w[0], 1.0f);
  EXPECT_GT(w[1], 1.0f - 0.1f * 0.1f);  // decayed, then moved up by the negative gradient
  EXPECT_FLOAT_EQ(ema[0], 0.5f * (1.0f + w[0]));
  EXPECT_FLOAT_EQ(ema[1], 0.5f * (1.0f + w[1]));
}

// Random state over a length that is no multiple of any block or chunk, several steps, with and
// without the EMA: the CPU kernel gives the reference loop's bits.
TEST(AdamAtan2, CpuUpdateIsBitIdenticalToTheReference) {
  for (const double ema : {0.999, 0.0}) {
    const int64_t n = 100003;
    SplitMix64 rng(11);
    std::vector<float> w(n), g(n), m(n), v(n), e(n);
    for (int64_t i = 0; i < n; ++i) {
      w[i] = static_cast<float>(rng.uniform() - 0.5);
      e[i] = w[i];
      m[i] = static_cast<float>((rng.uniform() - 0.5) * 1e-3);
      v[i] = static_cast<float>(rng.uniform() * 1e-6);
    }
    std::vector<float> w2 = w, m2 = m, v2 = v, e2 = e;
    const std::vector<float> start = w;
    const AdamAtan2Config config{0.9, 0.95, 0.1, ema};
    for (int step = 1; step <= 3; ++step) {
      for (float& x : g) x = static_cast<float>((rng.uniform() - 0.5) * 1e-2);
      const AdamAtan2Step s = adamAtan2Step(config, static_cast<float>(step), 1e-3 * step);
      referenceAdamAtan2({w.data(), g.data(), m.data(), v.data(), ema > 0 ? e.data() : nullptr}, n, s);
      cpu::adamAtan2({w2.data(), g.data(), m2.data(), v2.data(), ema > 0 ? e2.data() : nullptr}, n, s);
    }
    EXPECT_EQ(0, std::memcmp(w.data(), w2.data(), n * sizeof(float))) << "ema " << ema;
    EXPECT_EQ(0, std::memcmp(m.data(), m2.data(), n * sizeof(float)));
    EXPECT_EQ(0, std::memcmp(v.data(), v2.data(), n * sizeof(float)));
    EXPECT_EQ(0, std::memcmp(e.data(), e2.data(), n * sizeof(float)));
    EXPECT_NE(0, std::memcmp(w.data(), start.data(), n * sizeof(float)));  // the update is real
  }
}

TEST(AdamAtan2, CpuAccumulationIsBitIdenticalToThePlainLoop) {
  const int64_t n = 70001;
  SplitMix64 rng(5);
  std::vector<float> g(n), a(n, 0.0f), b(n, 0.0f);
  for (const float weight : {0.3f, 0.7f}) {
    for (float& x : g) x = static_cast<float>(rng.uniform() - 0.5);
    for (int64_t i = 0; i < n; ++i) a[i] += weight * g[i];
    cpu::accumulate(b.data(), g.data(), weight, n);
  }
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), n * sizeof(float)));
  EXPECT_NE(a[0], 0.0f);
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
