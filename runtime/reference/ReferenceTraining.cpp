#include "runtime/reference/ReferenceTraining.h"

#include <cmath>

namespace hrmc::runtime {

void referenceAdamAtan2(const AdamAtan2Tensors& t, int64_t n, const AdamAtan2Step& s) {
  for (int64_t i = 0; i < n; ++i) {
    t.w[i] *= s.decay;
    t.m[i] += s.oneMinusBeta1 * (t.g[i] - t.m[i]);  // lerp
    t.v[i] = s.beta2 * t.v[i] + s.oneMinusBeta2 * t.g[i] * t.g[i];
    t.w[i] -= s.stepSize * std::atan2(t.m[i], std::sqrt(t.v[i]) / s.bc2Sqrt);
    if (s.ema) t.ema[i] += s.emaKeep * (t.w[i] - t.ema[i]);
  }
}

ReferenceTraining::ReferenceTraining(RunFunction run, WeightMap params, OptimizerState state,
                                     const AdamAtan2Config& config, Communicator& communicator)
    : run_(std::move(run)), params_(std::move(params)), state_(std::move(state)), config_(config), communicator_(communicator) {
  checkOptimizerStateFits(params_, state_, config_);
}

StepScalars ReferenceTraining::accumulate(const std::string& function, const std::vector<std::string>& gradientNames,
                                          const PackedBatch& batch, double weight) {
  const std::vector<HostTensor<float>> out = run_(function, batch, params_);
  checkTrainStepResults(function, out.size(), gradientNames);
  for (size_t i = 0; i < gradientNames.size(); ++i) {
    if (!state_.count(gradientNames[i])) continue;  // a buffer's gradient: nothing to update
    const HostTensor<float>& g = out[3 + i];
    auto [acc, fresh] = grads_.emplace(gradientNames[i], HostTensor<float>(g.shape, 0.0f));
    for (size_t j = 0; j < g.data.size(); ++j) acc->second.data[j] += static_cast<float>(weight) * g.data[j];
  }
  return {out[0].data[0], out[1].data[0], out[2].data[0]};
}

void ReferenceTraining::step(double lr) {
  for (auto& [name, g] : grads_) {
    communicator_.allReduceSum(g.data.data(), g.numel());
    ParamState& s = state_.at(name);
    s.step += 1.0f;
    referenceAdamAtan2({params_.at(name).data.data(), g.data.data(), s.expAvg.data.data(), s.expAvgSq.data.data(),
                        config_.emaDecay > 0 ? s.ema.data.data() : nullptr},
                       g.numel(), adamAtan2Step(config_, s.step, lr));
  }
  grads_.clear();
}

int64_t ReferenceTraining::residentBytes() const {
  int64_t n = 0;
  for (const auto& [name, w] : params_) n += w.numel();
  for (const auto& [name, s] : state_) n += s.expAvg.numel() + s.expAvgSq.numel() + s.ema.numel();
  for (const auto& [name, g] : grads_) n += g.numel();
  return n * static_cast<int64_t>(sizeof(float));
}

}  // namespace hrmc::runtime
