#include "runtime/train/Optimizer.h"

#include <cmath>

namespace hrmc::runtime {

AdamAtan2::AdamAtan2(const AdamAtan2Config& config, const std::map<std::string, HostTensor<float>>& params)
    : config_(config) {
  for (const auto& [name, p] : params) {
    ParamState s;
    s.expAvg = HostTensor<float>(p.shape, 0.0f);
    s.expAvgSq = HostTensor<float>(p.shape, 0.0f);
    if (config_.emaDecay > 0) s.ema = p;  // the EMA starts as a copy of the weights
    state_[name] = std::move(s);
  }
}

void AdamAtan2::step(std::map<std::string, HostTensor<float>>& params,
                     const std::map<std::string, HostTensor<float>>& grads, double lr) {
  const float b1 = static_cast<float>(config_.beta1), b2 = static_cast<float>(config_.beta2);
  const float flr = static_cast<float>(lr);
  const float decay = 1.0f - flr * static_cast<float>(config_.weightDecay);
  const float emaKeep = static_cast<float>(1.0 - config_.emaDecay);
  for (auto& [name, p] : params) {
    auto g = grads.find(name);
    if (g == grads.end()) continue;  // no gradient: skipped entirely
    ParamState& s = state_.at(name);
    s.step += 1.0f;
    const float bc1 = 1.0f - std::pow(b1, s.step);
    const float bc2Sqrt = std::sqrt(1.0f - std::pow(b2, s.step));
    const float stepSize = flr / bc1;
    float* w = p.data.data();
    const float* gr = g->second.data.data();
    float* m = s.expAvg.data.data();
    float* v = s.expAvgSq.data.data();
    for (int64_t i = 0; i < p.numel(); ++i) {
      w[i] *= decay;                                    // decoupled decay, first
      m[i] += (1.0f - b1) * (gr[i] - m[i]);             // lerp
      v[i] = b2 * v[i] + (1.0f - b2) * gr[i] * gr[i];
      w[i] -= stepSize * std::atan2(m[i], std::sqrt(v[i]) / bc2Sqrt);
    }
    if (config_.emaDecay > 0) {
      float* e = s.ema.data.data();
      for (int64_t i = 0; i < p.numel(); ++i) e[i] += emaKeep * (w[i] - e[i]);
    }
  }
}

int creditWindowAt(int64_t step, int64_t totalSteps, int bpMin, int bpMax, double warmupRatio) {
  const double warmup = static_cast<double>(totalSteps) * warmupRatio;
  const double progress = warmup > 0 ? std::min(1.0, static_cast<double>(step) / warmup) : 1.0;
  return bpMin + static_cast<int>(std::floor(progress * (bpMax - bpMin)));
}

double learningRateAt(int64_t step, int64_t totalSteps, double lrMax, double minRatio, int64_t warmupSteps) {
  if (step < warmupSteps) return lrMax * std::min(1.0, static_cast<double>(step) / static_cast<double>(warmupSteps));
  const double span = static_cast<double>(std::max<int64_t>(1, totalSteps - warmupSteps));
  const double progress = static_cast<double>(step - warmupSteps) / span;
  return lrMax * (minRatio + std::max(0.0, (1.0 - minRatio) * 0.5 * (1.0 + std::cos(M_PI * progress))));
}

}  // namespace hrmc::runtime
