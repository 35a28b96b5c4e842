#include "runtime/cpu/TrainingKernels.h"

#include <algorithm>
#include <cmath>

#include "runtime/cpu/ThreadPool.h"
#include "runtime/tensor/Bf16.h"

namespace hrmc::runtime::cpu {

namespace {
constexpr int64_t kMinChunk = 16384;  // elements per thread: below this a split costs more than it saves
constexpr int64_t kBlock = 1024;      // the denominators of one block live on the stack
}  // namespace

void accumulate(float* acc, const float* g, float weight, int64_t n) {
  ThreadPool::instance().parallelFor(n, kMinChunk, [&](int64_t b, int64_t e) {
#pragma omp simd
    for (int64_t i = b; i < e; ++i) acc[i] += weight * g[i];
  });
}

void adamAtan2(const AdamAtan2Tensors& t, int64_t n, const AdamAtan2Step& s) {
  ThreadPool::instance().parallelFor(n, kMinChunk, [&](int64_t b, int64_t e) {
    float denom[kBlock];
    for (int64_t b0 = b; b0 < e; b0 += kBlock) {
      const int64_t len = std::min(kBlock, e - b0);
      float* w = t.w + b0;
      const float* g = t.g + b0;
      float* m = t.m + b0;
      float* v = t.v + b0;
#pragma omp simd
      for (int64_t i = 0; i < len; ++i) {
        w[i] *= s.decay;
        m[i] += s.oneMinusBeta1 * (g[i] - m[i]);
        v[i] = s.beta2 * v[i] + s.oneMinusBeta2 * g[i] * g[i];
        denom[i] = std::sqrt(v[i]) / s.bc2Sqrt;
      }
      for (int64_t i = 0; i < len; ++i) w[i] -= s.stepSize * std::atan2(m[i], denom[i]);
      if (s.ema) {
        float* ema = t.ema + b0;
#pragma omp simd
        for (int64_t i = 0; i < len; ++i) ema[i] += s.emaKeep * (w[i] - ema[i]);
      }
      if (t.wBf16) roundToBf16Bits(w, t.wBf16 + b0, len);
    }
  });
}

}  // namespace hrmc::runtime::cpu
