#include "runtime/train/Schedules.h"

#include <cmath>

namespace hrmc::runtime {

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
