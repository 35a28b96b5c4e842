// Row-wise library kernels, one block per token row (grid-stride over rows), each the CUDA form of a
// CPU backend kernel with the same fp32 math (runtime/cpu/CpuKernels.h, LossKernels.h):
//   RoPE (rotate-half, the inverse its transpose), the RMSNorm gradient, cross entropy and its
//   gradient, the argmax match; and, over columns, the embedding gradient.
// Elem is float or hrm_bf16 (storage; bf16 results rounded once). Labels were checked on the host.
#pragma once

#include "hrm_attention.cuh"  // hrm_load, hrm_store

constexpr int kIgnoreLabel = -100;

// y = rope(x) for x [T, heads, hd] at each row's position; angles as the CPU computes them.
template <typename Elem>
HRM_DEVICE void hrm_rope(const Elem* __restrict__ x, Elem* __restrict__ y, const int* __restrict__ positions,
                         long long T, int heads, int hd, float theta, int inverse) {
  const int half = hd / 2;
  for (long long t = hrm_block(); t < T; t += hrm_blocks()) {
    const float p = static_cast<float>(positions[t]);
    for (long long e = hrm_thread(); e < static_cast<long long>(heads) * half; e += hrm_threads()) {
      const long long h = e / half, i = e % half;
      const float angle = p * (1.0f / powf(theta, static_cast<float>(2 * i) / static_cast<float>(hd)));
      const float c = cosf(angle), s = inverse ? -sinf(angle) : sinf(angle);
      const Elem* xr = x + (t * heads + h) * hd;
      Elem* yr = y + (t * heads + h) * hd;
      const float a = hrm_load(xr + i), b = hrm_load(xr + i + half);
      hrm_store(yr + i, a * c - b * s);
      hrm_store(yr + i + half, b * c + a * s);
    }
  }
}

// dx of y = x / sqrt(mean(x²) + eps) for rows of d.
template <typename Elem>
HRM_DEVICE void hrm_rms_norm_grad(const Elem* __restrict__ x, const Elem* __restrict__ g, Elem* __restrict__ dx,
                                  long long rows, int d, float eps) {
  for (long long r = hrm_block(); r < rows; r += hrm_blocks()) {
    const Elem* xr = x + r * d;
    const Elem* gr = g + r * d;
    float sumsq = 0.0f, dot = 0.0f;
    for (long long j = hrm_thread(); j < d; j += hrm_threads()) {
      const float xv = hrm_load(xr + j);
      sumsq += xv * xv;
      dot += hrm_load(gr + j) * xv;
    }
    sumsq = hrm_block_sum(sumsq);
    dot = hrm_block_sum(dot);
    const float inv = 1.0f / sqrtf(sumsq / static_cast<float>(d) + eps);
    const float k = inv * inv * inv * dot / static_cast<float>(d);
    for (long long j = hrm_thread(); j < d; j += hrm_threads())
      hrm_store(dx + r * d + j, inv * hrm_load(gr + j) - k * hrm_load(xr + j));
  }
}

// A row's maximum and Σ exp(logit − maximum), shared by the whole block.
template <typename Elem>
HRM_DEVICE void hrm_softmax_stats(const Elem* row, long long V, float& max, float& sum) {
  float m = hrm_f32_bits(0xff800000u);
  for (long long j = hrm_thread(); j < V; j += hrm_threads()) m = fmaxf(m, hrm_load(row + j));
  max = hrm_block_max(m);
  float s = 0.0f;
  for (long long j = hrm_thread(); j < V; j += hrm_threads()) s += hrm_exp(hrm_load(row + j) - max);
  sum = hrm_block_sum(s);
}

// ce[t] = logsumexp(logits[t]) − logits[t, label[t]]; 0 where the label is ignored.
template <typename Elem>
HRM_DEVICE void hrm_cross_entropy(const Elem* __restrict__ logits, const int* __restrict__ labels,
                                  float* __restrict__ ce, long long T, long long V) {
  for (long long t = hrm_block(); t < T; t += hrm_blocks()) {
    if (labels[t] == kIgnoreLabel) {  // uniform across the block: no barrier is skipped by some threads only
      if (hrm_thread() == 0) ce[t] = 0.0f;
      continue;
    }
    float m, sum;
    hrm_softmax_stats(logits + t * V, V, m, sum);
    if (hrm_thread() == 0) ce[t] = m + logf(sum) - hrm_load(logits + t * V + labels[t]);
  }
}

// dlogits[t] = (softmax(logits[t]) − onehot(label[t])) · g[t]; 0 where the label is ignored.
template <typename Elem>
HRM_DEVICE void hrm_cross_entropy_grad(const Elem* __restrict__ logits, const int* __restrict__ labels,
                                       const float* __restrict__ g, Elem* __restrict__ dlogits, long long T,
                                       long long V) {
  for (long long t = hrm_block(); t < T; t += hrm_blocks()) {
    Elem* out = dlogits + t * V;
    if (labels[t] == kIgnoreLabel) {
      for (long long j = hrm_thread(); j < V; j += hrm_threads()) hrm_store(out + j, 0.0f);
      continue;
    }
    const Elem* row = logits + t * V;
    float m, sum;
    hrm_softmax_stats(row, V, m, sum);
    const float scale = g[t] / sum;
    for (long long j = hrm_thread(); j < V; j += hrm_threads())
      hrm_store(out + j, hrm_exp(hrm_load(row + j) - m) * scale - (j == labels[t] ? g[t] : 0.0f));
  }
}

// match[t] = 1 where the label is valid and the first maximum of logits[t] is at it, else 0.
template <typename Elem>
HRM_DEVICE void hrm_argmax_match(const Elem* __restrict__ logits, const int* __restrict__ labels,
                                 float* __restrict__ match, long long T, long long V) {
  for (long long t = hrm_block(); t < T; t += hrm_blocks()) {
    const Elem* row = logits + t * V;
    float m = hrm_f32_bits(0xff800000u);
    for (long long j = hrm_thread(); j < V; j += hrm_threads()) m = fmaxf(m, hrm_load(row + j));
    m = hrm_block_max(m);
    float first = static_cast<float>(V);  // this thread's first column holding the maximum (exact below 2^24)
    for (long long j = hrm_thread(); j < V; j += hrm_threads())
      if (hrm_load(row + j) == m && static_cast<float>(j) < first) first = static_cast<float>(j);
    first = -hrm_block_max(-first);
    if (hrm_thread() == 0)
      match[t] = labels[t] != kIgnoreLabel && static_cast<long long>(first) == labels[t] ? 1.0f : 0.0f;
  }
}

// table [vocab, d] = Σ_t onehot(tokens[t]) ⊗ g[t]: each thread of the grid owns columns and walks the
// tokens in order (deterministic, no atomics).
HRM_DEVICE void hrm_embedding_grad(const int* __restrict__ tokens, const float* __restrict__ g,
                                   float* __restrict__ table, long long T, long long d, long long vocab) {
  for (long long c = hrm_block() * hrm_threads() + hrm_thread(); c < d; c += hrm_blocks() * hrm_threads()) {
    for (long long v = 0; v < vocab; ++v) table[v * d + c] = 0.0f;
    for (long long t = 0; t < T; ++t) table[static_cast<long long>(tokens[t]) * d + c] += g[t * d + c];
  }
}

#define HRM_ROW_KERNELS(Elem, suffix)                                                                                \
  HRM_KERNEL void __launch_bounds__(256) hrm_rope_##suffix(const Elem* x, Elem* y, const int* positions, long long T, \
                                                           int heads, int hd, float theta, int inverse) {            \
    hrm_rope<Elem>(x, y, positions, T, heads, hd, theta, inverse);                                                   \
  }                                                                                                                  \
  HRM_KERNEL void __launch_bounds__(256) hrm_rms_norm_grad_##suffix(const Elem* x, const Elem* g, Elem* dx,          \
                                                                    long long rows, int d, float eps) {              \
    hrm_rms_norm_grad<Elem>(x, g, dx, rows, d, eps);                                                                 \
  }                                                                                                                  \
  HRM_KERNEL void __launch_bounds__(256) hrm_cross_entropy_##suffix(const Elem* logits, const int* labels, float* ce, \
                                                                    long long T, long long V) {                      \
    hrm_cross_entropy<Elem>(logits, labels, ce, T, V);                                                               \
  }                                                                                                                  \
  HRM_KERNEL void __launch_bounds__(256) hrm_cross_entropy_grad_##suffix(                                            \
      const Elem* logits, const int* labels, const float* g, Elem* dlogits, long long T, long long V) {              \
    hrm_cross_entropy_grad<Elem>(logits, labels, g, dlogits, T, V);                                                  \
  }                                                                                                                  \
  HRM_KERNEL void __launch_bounds__(256) hrm_argmax_match_##suffix(const Elem* logits, const int* labels, float* match, \
                                                                   long long T, long long V) {                       \
    hrm_argmax_match<Elem>(logits, labels, match, T, V);                                                             \
  }                                                                                                                  \
  HRM_HOST_ENTRY(hrm_argmax_match_##suffix, (const Elem*)args[0], (const int*)args[1], (float*)args[2],              \
                 *(const long long*)args[3], *(const long long*)args[4])                                             \
  HRM_HOST_ENTRY(hrm_rope_##suffix, (const Elem*)args[0], (Elem*)args[1], (const int*)args[2],                       \
                 *(const long long*)args[3], *(const int*)args[4], *(const int*)args[5], *(const float*)args[6],     \
                 *(const int*)args[7])                                                                               \
  HRM_HOST_ENTRY(hrm_rms_norm_grad_##suffix, (const Elem*)args[0], (const Elem*)args[1], (Elem*)args[2],             \
                 *(const long long*)args[3], *(const int*)args[4], *(const float*)args[5])                           \
  HRM_HOST_ENTRY(hrm_cross_entropy_##suffix, (const Elem*)args[0], (const int*)args[1], (float*)args[2],             \
                 *(const long long*)args[3], *(const long long*)args[4])                                             \
  HRM_HOST_ENTRY(hrm_cross_entropy_grad_##suffix, (const Elem*)args[0], (const int*)args[1], (const float*)args[2],  \
                 (Elem*)args[3], *(const long long*)args[4], *(const long long*)args[5])

#define HRM_COLUMN_KERNELS                                                                                          \
  HRM_KERNEL void __launch_bounds__(256) hrm_embedding_grad_f32(const int* tokens, const float* g, float* table,     \
                                                                long long T, long long d, long long vocab) {         \
    hrm_embedding_grad(tokens, g, table, T, d, vocab);                                                               \
  }                                                                                                                  \
  HRM_HOST_ENTRY(hrm_embedding_grad_f32, (const int*)args[0], (const float*)args[1], (float*)args[2],                    \
                 *(const long long*)args[3], *(const long long*)args[4], *(const long long*)args[5])
