#pragma once
// The training schedules: the credit window K of §2 (warm-up deep credit assignment) and the learning
// rate of §4.4. (AdamATan2 runs on the backend: runtime/exec/AdamAtan2.h, Training.h.)
#include <cstdint>

namespace hrmc::runtime {

// K(step) (§2): bp_min + floor(progress · (bp_max − bp_min)), progress = min(1, step / (total·ratio)).
int creditWindowAt(int64_t step, int64_t totalSteps, int bpMin, int bpMax, double warmupRatio);

// lr(step) (§4.4): linear warm-up, then cosine from lr_max down to lr_max · min_ratio. step is 1-based.
double learningRateAt(int64_t step, int64_t totalSteps, double lrMax, double minRatio, int64_t warmupSteps);

}  // namespace hrmc::runtime
