#pragma once
// The CPU backend's kernels for device-resident training: gradient accumulation and the AdamATan2 +
// EMA update (runtime/exec/AdamAtan2.h), split over the thread pool and vectorised. Each element
// goes through the same operations in the same order as the reference optimizer, so the result is
// bit-identical to it (atan2 stays a libm call per element; everything around it is vector code).
#include <cstdint>

#include "runtime/exec/AdamAtan2.h"

namespace hrmc::runtime::cpu {

// acc[i] += weight · g[i]
void accumulate(float* acc, const float* g, float weight, int64_t n);
void adamAtan2(const AdamAtan2Tensors& t, int64_t n, const AdamAtan2Step& s);

}  // namespace hrmc::runtime::cpu
