// The optimizer on the device: AdamATan2 with decoupled weight decay and the EMA (runtime/exec/AdamAtan2.h),
// element-wise over the grid, each element through the same operations in the same order as the
// reference loop; where the device keeps bf16 copies of the weights (wBf16 not null), each updated
// weight is rounded into its copy in the same pass.
#pragma once

#include "hrm_device.cuh"

HRM_DEVICE void hrm_adam_atan2(float* __restrict__ w, const float* __restrict__ g, float* __restrict__ m,
                               float* __restrict__ v, float* __restrict__ ema, hrm_bf16* __restrict__ wBf16,
                               long long n, float decay, float oneMinusBeta1, float beta2, float oneMinusBeta2,
                               float stepSize, float bc2Sqrt, float emaKeep) {
  for (long long i = hrm_block() * hrm_threads() + hrm_thread(); i < n; i += hrm_blocks() * hrm_threads()) {
    float wi = w[i] * decay;
    const float gi = g[i];
    const float mi = m[i] + oneMinusBeta1 * (gi - m[i]);
    const float vi = beta2 * v[i] + oneMinusBeta2 * gi * gi;
    wi -= stepSize * atan2f(mi, sqrtf(vi) / bc2Sqrt);
    w[i] = wi;
    m[i] = mi;
    v[i] = vi;
    if (ema) ema[i] += emaKeep * (wi - ema[i]);
    if (wBf16) wBf16[i] = hrm_f32_to_bf16(wi);
  }
}

#define HRM_TRAIN_KERNELS                                                                                           \
  HRM_KERNEL void __launch_bounds__(256) hrm_adam_atan2_kernel(                                                      \
      float* w, const float* g, float* m, float* v, float* ema, hrm_bf16* wBf16, long long n, float decay,          \
      float oneMinusBeta1, float beta2, float oneMinusBeta2, float stepSize, float bc2Sqrt, float emaKeep) {         \
    hrm_adam_atan2(w, g, m, v, ema, wBf16, n, decay, oneMinusBeta1, beta2, oneMinusBeta2, stepSize, bc2Sqrt,       \
                   emaKeep);                                                                                         \
  }                                                                                                                  \
  HRM_HOST_ENTRY(hrm_adam_atan2_kernel, (float*)args[0], (const float*)args[1], (float*)args[2], (float*)args[3],    \
                 (float*)args[4], (hrm_bf16*)args[5], *(const long long*)args[6], *(const float*)args[7],            \
                 *(const float*)args[8], *(const float*)args[9], *(const float*)args[10], *(const float*)args[11],   \
                 *(const float*)args[12], *(const float*)args[13])
