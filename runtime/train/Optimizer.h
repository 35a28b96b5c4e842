#pragma once
// AdamATan2 with decoupled weight decay and an EMA of the weights (HRM-TEXT.md §4.1-4.2), and the
// schedules of §2 (credit window K) and §4.4 (learning rate). fp32 master weights and state.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "runtime/tensor/HostTensor.h"

namespace hrmc::runtime {

struct AdamAtan2Config {
  double beta1 = 0.9;
  double beta2 = 0.95;
  double weightDecay = 0.1;
  double emaDecay = 0.999;  // 0 disables the EMA
};

// Per-parameter optimizer state (all fp32, as the reference keeps it).
struct ParamState {
  HostTensor<float> expAvg, expAvgSq, ema;
  float step = 0;  // per-parameter step counter: a parameter without gradient does not advance it
};

class AdamAtan2 {
 public:
  AdamAtan2(const AdamAtan2Config& config, const std::map<std::string, HostTensor<float>>& params);

  // One step at learning rate lr for the parameters that received a gradient; the others are skipped
  // entirely (no decay, no moment update, no step count, no EMA) as the reference does.
  void step(std::map<std::string, HostTensor<float>>& params, const std::map<std::string, HostTensor<float>>& grads,
            double lr);

  std::map<std::string, ParamState>& state() { return state_; }
  const std::map<std::string, ParamState>& state() const { return state_; }
  const AdamAtan2Config& config() const { return config_; }

 private:
  AdamAtan2Config config_;
  std::map<std::string, ParamState> state_;
};

// K(step) (§2): bp_min + floor(progress · (bp_max − bp_min)), progress = min(1, step / (total·ratio)).
int creditWindowAt(int64_t step, int64_t totalSteps, int bpMin, int bpMax, double warmupRatio);

// lr(step) (§4.4): linear warm-up, then cosine from lr_max down to lr_max · min_ratio. step is 1-based.
double learningRateAt(int64_t step, int64_t totalSteps, double lrMax, double minRatio, int64_t warmupSteps);

}  // namespace hrmc::runtime
