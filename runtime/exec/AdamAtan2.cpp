#include "runtime/exec/AdamAtan2.h"

#include <cmath>

#include "runtime/exec/Types.h"

namespace hrmc::runtime {

OptimizerState freshOptimizerState(const AdamAtan2Config& config, const std::map<std::string, HostTensor<float>>& params) {
  OptimizerState state;
  for (const auto& [name, p] : params) {
    ParamState s;
    s.expAvg = HostTensor<float>(p.shape, 0.0f);
    s.expAvgSq = HostTensor<float>(p.shape, 0.0f);
    if (config.emaDecay > 0) s.ema = p;  // the EMA starts as a copy of the weights
    state[name] = std::move(s);
  }
  return state;
}

void checkOptimizerStateFits(const std::map<std::string, HostTensor<float>>& params, const OptimizerState& state,
                             const AdamAtan2Config& config) {
  for (const auto& [name, st] : state) {
    auto w = params.find(name);
    if (w == params.end()) throw ExecError("optimizer state for '" + name + "', which is not a weight of the model");
    const int64_t n = w->second.numel();
    if (st.expAvg.numel() != n || st.expAvgSq.numel() != n || (config.emaDecay > 0 && st.ema.numel() != n))
      throw ExecError("the optimizer state of weight '" + name + "' does not fit it (moments " + shapeString(st.expAvg.shape) +
                      " and " + shapeString(st.expAvgSq.shape) + ", EMA " + shapeString(st.ema.shape) + " for a weight of " +
                      shapeString(w->second.shape) + ")");
  }
}

AdamAtan2Step adamAtan2Step(const AdamAtan2Config& config, float step, double lr) {
  const float b1 = static_cast<float>(config.beta1), b2 = static_cast<float>(config.beta2);
  const float flr = static_cast<float>(lr);
  AdamAtan2Step s;
  s.decay = 1.0f - flr * static_cast<float>(config.weightDecay);  // decoupled decay, applied first
  s.oneMinusBeta1 = 1.0f - b1;
  s.beta2 = b2;
  s.oneMinusBeta2 = 1.0f - b2;
  s.stepSize = flr / (1.0f - std::pow(b1, step));
  s.bc2Sqrt = std::sqrt(1.0f - std::pow(b2, step));
  s.ema = config.emaDecay > 0;
  s.emaKeep = static_cast<float>(1.0 - config.emaDecay);
  return s;
}

}  // namespace hrmc::runtime
