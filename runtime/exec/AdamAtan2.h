#pragma once
// AdamATan2 with decoupled weight decay and an EMA of the weights (HRM-TEXT.md §4.1-4.2): the state
// every backend keeps per trainable weight (fp32, as the reference keeps it), and the per-step scalars
// every backend's update kernel takes. The element-wise update itself is each backend's kernel (the
// reference executor's plain loop is the oracle the others are tested against):
//   w ← w·decay;  m ← m + (1−β1)(g − m);  v ← β2·v + (1−β2)·g²;  w ← w − stepSize · atan2(m, √v / √bc2)
//   ema ← ema + (1 − emaDecay)(w − ema);  wBf16 ← bf16(w) where the device keeps a bf16 copy
#include <cstdint>
#include <map>
#include <string>

#include "runtime/tensor/HostTensor.h"

namespace hrmc::runtime {

struct AdamAtan2Config {
  double beta1 = 0.9;
  double beta2 = 0.95;
  double weightDecay = 0.1;
  double emaDecay = 0.999;  // 0 disables the EMA
};

struct ParamState {
  HostTensor<float> expAvg, expAvgSq, ema;
  float step = 0;  // per-parameter step counter: a parameter without gradient does not advance it
};
// Per trainable weight, by name.
using OptimizerState = std::map<std::string, ParamState>;

// Fresh state for `params`: zero moments, the EMA a copy of the weights.
OptimizerState freshOptimizerState(const AdamAtan2Config& config, const std::map<std::string, HostTensor<float>>& params);

// Throws ExecError naming the first entry of `state` that is not a weight of `params` or whose
// moments (or EMA, when the config keeps one) do not have the weight's size.
void checkOptimizerStateFits(const std::map<std::string, HostTensor<float>>& params, const OptimizerState& state,
                             const AdamAtan2Config& config);

// The scalars of one update of a parameter at its step count `step` (after the increment).
struct AdamAtan2Step {
  float decay, oneMinusBeta1, beta2, oneMinusBeta2, stepSize, bc2Sqrt;
  bool ema;
  float emaKeep;
};
AdamAtan2Step adamAtan2Step(const AdamAtan2Config& config, float step, double lr);

// The arrays one update reads and writes (ema is null without an EMA; wBf16, when not null, receives
// the updated weight rounded to bf16 in the same pass: the copy bf16 programs read).
struct AdamAtan2Tensors {
  float* w;
  const float* g;
  float *m, *v, *ema;
  uint16_t* wBf16 = nullptr;
};

}  // namespace hrmc::runtime
