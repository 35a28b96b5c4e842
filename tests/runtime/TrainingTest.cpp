// Device-resident training state (runtime/exec/Training.h) on every backend: what is bound reads back
// unchanged, a step without gradients changes nothing, and accumulate + step give bit for bit what the
// host computes from the backend's own gradients with the reference optimizer loop.
#include <gtest/gtest.h>

#include <cstring>

#include "GoldenCase.h"
#include "runtime/Backends.h"
#include "runtime/reference/ReferenceTraining.h"

using namespace hrmc;
using namespace hrmc::runtime;

namespace {

class TrainingOn : public ::testing::TestWithParam<std::string> {};

bool sameBits(const HostTensor<float>& a, const HostTensor<float>& b) {
  return a.shape == b.shape && std::memcmp(a.data.data(), b.data.data(), a.data.size() * sizeof(float)) == 0;
}

OptimizerState freshFor(const hrmc::testing::GoldenCase& t, const AdamAtan2Config& config) {
  WeightMap trainable;
  for (const auto& w : t.module->weights())
    if (w.trainable) trainable[w.name] = t.weights.at(w.name);
  return freshOptimizerState(config, trainable);
}

TEST_P(TrainingOn, BoundStateReadsBackAndAStepWithoutGradientsChangesNothing) {
  hrmc::testing::GoldenCase t;
  std::unique_ptr<Backend> backend = makeBackend(GetParam(), *t.module);
  const AdamAtan2Config config;
  OptimizerState state = freshFor(t, config);
  state.begin()->second.step = 7;  // read back as bound
  state.begin()->second.expAvg.data[0] = 0.25f;
  SingleProcess single;
  std::unique_ptr<Training> training = backend->bindTraining(t.weights, state, config, single);
  training->step(1e-3);
  const WeightMap params = training->parameters();
  const OptimizerState got = training->optimizerState();
  ASSERT_EQ(params.size(), t.weights.size());
  for (const auto& [name, w] : t.weights) EXPECT_TRUE(sameBits(params.at(name), w)) << name;
  ASSERT_EQ(got.size(), state.size());
  for (const auto& [name, s] : state) {
    EXPECT_EQ(got.at(name).step, s.step) << name;
    EXPECT_TRUE(sameBits(got.at(name).expAvg, s.expAvg)) << name;
    EXPECT_TRUE(sameBits(got.at(name).expAvgSq, s.expAvgSq)) << name;
    EXPECT_TRUE(sameBits(got.at(name).ema, s.ema)) << name;
  }
  EXPECT_GE(training->residentBytes(), 4 * 3 * static_cast<int64_t>(sizeof(float)) * t.weights.at("lm_head.weight").numel());
}

TEST_P(TrainingOn, AccumulateAndStepGiveTheHostComputationBitForBit) {
  hrmc::testing::GoldenCase t;
  std::unique_ptr<Backend> backend = makeBackend(GetParam(), *t.module);
  std::string error;
  const std::string fn = t.module->trainStep(2, error);
  ASSERT_FALSE(fn.empty()) << error;
  const std::vector<std::string> names = t.module->gradientNames(fn);
  const AdamAtan2Config config;
  const double lr = 1e-3;

  // The host: the backend's gradients, accumulated with weights 0.25 and 0.75, then the reference loop.
  const std::vector<HostTensor<float>> out = backend->run(fn, t.batch, t.weights);
  WeightMap want = t.weights;
  OptimizerState wantState = freshFor(t, config);
  for (size_t i = 0; i < names.size(); ++i) {
    if (!wantState.count(names[i])) continue;
    const HostTensor<float>& g = out[3 + i];
    HostTensor<float> acc(g.shape, 0.0f);
    for (const float w : {0.25f, 0.75f})
      for (size_t j = 0; j < acc.data.size(); ++j) acc.data[j] += w * g.data[j];
    ParamState& s = wantState.at(names[i]);
    s.step += 1.0f;
    referenceAdamAtan2({want.at(names[i]).data.data(), acc.data.data(), s.expAvg.data.data(), s.expAvgSq.data.data(),
                        s.ema.data.data()},
                       acc.numel(), adamAtan2Step(config, s.step, lr));
  }

  SingleProcess single;
  std::unique_ptr<Training> training = backend->bindTraining(t.weights, freshFor(t, config), config, single);
  for (const double w : {0.25, 0.75}) {
    const StepScalars s = training->accumulate(fn, names, t.batch, w);
    EXPECT_EQ(s.loss, out[0].data[0]);
    EXPECT_EQ(s.accuracy, out[1].data[0]);
    EXPECT_EQ(s.exact, out[2].data[0]);
  }
  training->step(lr);
  const WeightMap got = training->parameters();
  const OptimizerState gotState = training->optimizerState();
  int moved = 0;
  for (const auto& [name, w] : want) {
    EXPECT_TRUE(sameBits(got.at(name), w)) << name;
    moved += !sameBits(w, t.weights.at(name));
  }
  EXPECT_GT(moved, 5);  // the update is real
  EXPECT_TRUE(sameBits(got.at("model.zL_init"), t.weights.at("model.zL_init")));  // a buffer is not trained
  for (const auto& [name, s] : wantState) {
    EXPECT_EQ(gotState.at(name).step, s.step) << name;  // 0 for a weight without gradient at K = 2
    EXPECT_TRUE(sameBits(gotState.at(name).expAvgSq, s.expAvgSq)) << name;
    EXPECT_TRUE(sameBits(gotState.at(name).ema, s.ema)) << name;
  }
}

// bf16 programs read the weights' bf16 copies; where the device keeps them (the CPU backend), the
// optimizer step rewrites them with the weights. Every step's scalars equal those of the same step run
// on the read-back fp32 weights (rounded at that run), bit for bit: the copies are never stale.
TEST_P(TrainingOn, Bf16StepsSeeTheUpdatedWeights) {
  hrmc::testing::GoldenCase t;
  std::string error;
  ASSERT_TRUE(t.module->setPrecision(compiler::Precision::BF16, error)) << error;
  std::unique_ptr<Backend> backend = makeBackend(GetParam(), *t.module);
  const std::string fn = t.module->trainStep(2, error);
  ASSERT_FALSE(fn.empty()) << error;
  const std::vector<std::string> names = t.module->gradientNames(fn);
  const AdamAtan2Config config;
  SingleProcess single;
  std::unique_ptr<Training> training = backend->bindTraining(t.weights, freshFor(t, config), config, single);
  double first = 0;
  for (int step = 0; step < 3; ++step) {
    const std::vector<HostTensor<float>> want = backend->run(fn, t.batch, training->parameters());
    const StepScalars got = training->accumulate(fn, names, t.batch, 1.0);
    EXPECT_EQ(got.loss, want[0].data[0]) << "step " << step;
    EXPECT_EQ(got.accuracy, want[1].data[0]) << "step " << step;
    if (step == 0) first = got.loss;
    training->step(3e-3);
  }
  EXPECT_NE(training->accumulate(fn, names, t.batch, 1.0).loss, first);  // the weights did move
}

TEST_P(TrainingOn, OptimizerStateThatDoesNotFitIsNamed) {
  hrmc::testing::GoldenCase t;
  std::unique_ptr<Backend> backend = makeBackend(GetParam(), *t.module);
  const AdamAtan2Config config;
  OptimizerState state = freshFor(t, config);
  state.at("lm_head.weight").expAvg = HostTensor<float>({3}, 0.0f);
  SingleProcess single;
  try {
    backend->bindTraining(t.weights, state, config, single);
    FAIL() << "expected an ExecError";
  } catch (const ExecError& e) {
    EXPECT_NE(std::string(e.what()).find("optimizer state of weight 'lm_head.weight' does not fit"), std::string::npos)
        << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, TrainingOn, ::testing::Values("reference", "cpu"));

}  // namespace
