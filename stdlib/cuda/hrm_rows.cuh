// Row-wise library kernels, one block per token row (grid-stride over rows), each the CUDA form of a
// CPU backend kernel with the same fp32 math (runtime/cpu/CpuKernels.h, LossKernels.h):
//   RoPE (rotate-half, the inverse its transpose), the RMSNorm gradient, cross entropy and its
//   gradient, the argmax match; over columns, the embedding gradient; over output elements, unbroadcast
//   and the max gradient; and the label means and exact match, which sum in the CPU's order (one
//   thread: they are a few thousand additions per batch).
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

// A shape of up to 8 dimensions, by value.
struct HrmShape {
  long long dims[8];
  long long toStride[8];  // unbroadcast: the output's stride for each input dimension (0 where summed)
  int rank;
};

// y (zeroed first) = x summed over the dimensions it was broadcast along: one thread per element of
// y, adding its x elements in x's order (as the CPU does).
HRM_DEVICE void hrm_unbroadcast(const float* __restrict__ x, float* __restrict__ y, HrmShape from, long long yTotal) {
  for (long long j = hrm_block() * hrm_threads() + hrm_thread(); j < yTotal; j += hrm_blocks() * hrm_threads()) {
    long long base = 0, stride = 1, summed = 1;
    for (int d = from.rank - 1; d >= 0; --d) {
      if (from.toStride[d] != 0) base += (j / from.toStride[d]) % from.dims[d] * stride;
      else summed *= from.dims[d];
      stride *= from.dims[d];
    }
    float acc = 0.0f;
    for (long long b = 0; b < summed; ++b) {
      long long at = base, rest = b;
      stride = 1;
      for (int d = from.rank - 1; d >= 0; --d) {
        if (from.toStride[d] == 0) {
          at += rest % from.dims[d] * stride;
          rest /= from.dims[d];
        }
        stride *= from.dims[d];
      }
      acc += x[at];
    }
    y[j] = acc;
  }
}

// y = g scattered to the first maximum of x along the middle dimension of [outer, dim, inner].
HRM_DEVICE void hrm_max_grad(const float* __restrict__ x, const float* __restrict__ g, float* __restrict__ y,
                             long long outer, long long dim, long long inner) {
  for (long long e = hrm_block() * hrm_threads() + hrm_thread(); e < outer * inner; e += hrm_blocks() * hrm_threads()) {
    const long long o = e / inner, i = e % inner;
    long long best = 0;
    for (long long d = 1; d < dim; ++d)
      if (x[(o * dim + d) * inner + i] > x[(o * dim + best) * inner + i]) best = d;
    for (long long d = 0; d < dim; ++d) y[(o * dim + d) * inner + i] = d == best ? g[o * inner + i] : 0.0f;
  }
}

// out[0] = Σ values over valid labels / #valid (0 when none), summed in double in order.
HRM_DEVICE void hrm_label_mean(const float* __restrict__ values, const int* __restrict__ labels,
                               float* __restrict__ out, long long T) {
  if (hrm_block() != 0 || hrm_thread() != 0) return;
  double sum = 0;
  long long n = 0;
  for (long long t = 0; t < T; ++t)
    if (labels[t] != kIgnoreLabel) {
      sum += values[t];
      ++n;
    }
  out[0] = n ? static_cast<float>(sum / static_cast<double>(n)) : 0.0f;
}

// out[t] = g / #valid where label[t] is valid, else 0 (one block: the count, then the elements).
HRM_DEVICE void hrm_label_mean_grad(const int* __restrict__ labels, const float* __restrict__ g,
                                    float* __restrict__ out, long long T) {
  HRM_SHARED long long valid;
  if (hrm_thread() == 0) {
    valid = 0;
    for (long long t = 0; t < T; ++t) valid += labels[t] != kIgnoreLabel;
  }
  hrm_sync();
  for (long long t = hrm_thread(); t < T; t += hrm_threads())
    out[t] = labels[t] != kIgnoreLabel ? g[0] / static_cast<float>(valid) : 0.0f;
}

// out[0] = #samples with a valid label whose valid labels all match / #such samples (0 when none);
// a sample's slots are contiguous (sampleOf −1 for padding).
HRM_DEVICE void hrm_exact_match(const float* __restrict__ match, const int* __restrict__ labels,
                                const int* __restrict__ sampleOf, float* __restrict__ out, long long T) {
  if (hrm_block() != 0 || hrm_thread() != 0) return;
  long long counted = 0, exact = 0;
  int current = -1;
  bool seen = false, allRight = true;
  for (long long t = 0; t <= T; ++t) {
    const int s = t < T ? sampleOf[t] : -2;
    if (s != current && s >= 0 || t == T) {  // a new sample (or the end): close the previous one
      counted += seen;
      exact += seen && allRight;
      seen = false;
      allRight = true;
      current = s;
    }
    if (t == T || s < 0 || labels[t] == kIgnoreLabel) continue;
    seen = true;
    allRight = allRight && match[t] != 0.0f;
  }
  out[0] = counted ? static_cast<float>(exact) / static_cast<float>(counted) : 0.0f;
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
  HRM_HOST_ENTRY(hrm_embedding_grad_f32, (const int*)args[0], (const float*)args[1], (float*)args[2],                \
                 *(const long long*)args[3], *(const long long*)args[4], *(const long long*)args[5])                 \
  HRM_KERNEL void __launch_bounds__(256) hrm_unbroadcast_f32(const float* x, float* y, HrmShape from, long long n) { \
    hrm_unbroadcast(x, y, from, n);                                                                                  \
  }                                                                                                                  \
  HRM_KERNEL void __launch_bounds__(256) hrm_max_grad_f32(const float* x, const float* g, float* y, long long outer,  \
                                                          long long dim, long long inner) {                          \
    hrm_max_grad(x, g, y, outer, dim, inner);                                                                        \
  }                                                                                                                  \
  HRM_KERNEL void __launch_bounds__(256) hrm_label_mean_f32(const float* values, const int* labels, float* out,       \
                                                            long long T) {                                           \
    hrm_label_mean(values, labels, out, T);                                                                          \
  }                                                                                                                  \
  HRM_KERNEL void __launch_bounds__(256) hrm_label_mean_grad_f32(const int* labels, const float* g, float* out,       \
                                                                 long long T) {                                      \
    hrm_label_mean_grad(labels, g, out, T);                                                                          \
  }                                                                                                                  \
  HRM_KERNEL void __launch_bounds__(256) hrm_exact_match_f32(const float* match, const int* labels,                  \
                                                             const int* sampleOf, float* out, long long T) {         \
    hrm_exact_match(match, labels, sampleOf, out, T);                                                                \
  }                                                                                                                  \
  HRM_HOST_ENTRY(hrm_unbroadcast_f32, (const float*)args[0], (float*)args[1], *(const HrmShape*)args[2],             \
                 *(const long long*)args[3])                                                                         \
  HRM_HOST_ENTRY(hrm_max_grad_f32, (const float*)args[0], (const float*)args[1], (float*)args[2],                    \
                 *(const long long*)args[3], *(const long long*)args[4], *(const long long*)args[5])                 \
  HRM_HOST_ENTRY(hrm_label_mean_f32, (const float*)args[0], (const int*)args[1], (float*)args[2],                    \
                 *(const long long*)args[3])                                                                         \
  HRM_HOST_ENTRY(hrm_label_mean_grad_f32, (const int*)args[0], (const float*)args[1], (float*)args[2],               \
                 *(const long long*)args[3])                                                                         \
  HRM_HOST_ENTRY(hrm_exact_match_f32, (const float*)args[0], (const int*)args[1], (const int*)args[2],               \
                 (float*)args[3], *(const long long*)args[4])
