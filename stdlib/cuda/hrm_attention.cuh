// Attention over packed samples, forward beside backward (HRM-TEXT.md §3.6 masks; the bf16 contract of
// compiler/precision/Precision.h). Every query row t attends one interval of keys [lo[t], hi[t]) —
// PrefixLM, causal and full masks over packed samples all take this form (CUDA-NOTES.md §3), padding
// rows have an empty one — and every key u is attended by one interval of queries [qlo[u], qhi[u]).
// So a tile of rows needs only the union of its rows' intervals: no mask tensor, no block table.
//
// This is the SIMT version: tiles of queries and keys in shared memory, scores, the online softmax
// and every sum in fp32, each block's threads striding over the tile's elements with block barriers
// between the phases (so the host emulation runs it unchanged, for any block size). Tensor-core
// (mma.sync) tiles are the next step; the interval logic stays.
//   forward:  o, and the log-sum-exp of each (row, head) for the backward
//   backward: dq (with D = rowsum(dO ∘ O) per row, from the forward's unrounded O), then dk and dv per
//             key tile: written, never
//             accumulated across blocks (deterministic, no atomics)
// Elem is float or hrm_bf16 (storage); under bf16 the probabilities and the softmax gradient are
// rounded to bf16 for their products (as the CPU backend's bf16 tiles), the results rounded once.
#pragma once

#include "hrm_device.cuh"

HRM_DEVICE float hrm_load(const float* p) { return *p; }
HRM_DEVICE float hrm_load(const hrm_bf16* p) { return hrm_bf16_to_f32(*p); }
HRM_DEVICE void hrm_store(float* p, float v) { *p = v; }
HRM_DEVICE void hrm_store(hrm_bf16* p, float v) { *p = hrm_f32_to_bf16(v); }
// A probability or softmax gradient as the operand of a product: bf16 storage rounds it.
template <typename Elem>
HRM_DEVICE float hrm_operand(float v) {
  return sizeof(Elem) == 2 ? hrm_bf16_to_f32(hrm_f32_to_bf16(v)) : v;
}

constexpr int kAttnRows = 16;     // query rows per forward / dq block
constexpr int kAttnKeys = 16;     // keys per tile
constexpr int kAttnSubRows = 8;   // query rows per step of a dk/dv block

// Rows [row0, row0 + rows) of one head of x ([T, heads, HD]) into s ([rows][HD]); zeros past T.
template <int HD, typename Elem>
HRM_DEVICE void hrm_attn_load_rows(float* s, const Elem* x, long long row0, int rows, long long T, int heads, int h) {
  for (long long e = hrm_thread(); e < rows * HD; e += hrm_threads()) {
    const long long r = e / HD, d = e % HD, t = row0 + r;
    s[e] = t < T ? hrm_load(x + (t * heads + h) * HD + d) : 0.0f;
  }
}

// The union [begin, end) of the intervals of rows [row0, row0 + rows), into two shared ints.
HRM_DEVICE void hrm_attn_union(const int* lo, const int* hi, long long row0, int rows, long long T, int* range) {
  if (hrm_thread() == 0) {
    int begin = 0x7fffffff, end = 0;
    for (int r = 0; r < rows && row0 + r < T; ++r)
      if (lo[row0 + r] < hi[row0 + r]) {
        begin = begin < lo[row0 + r] ? begin : lo[row0 + r];
        end = end > hi[row0 + r] ? end : hi[row0 + r];
      }
    range[0] = begin;
    range[1] = begin < end ? end : begin;
  }
  hrm_sync();
}

// Keys and values of tile [k0, k0 + kAttnKeys) of one head into shared memory, then a barrier.
template <int HD, typename Elem>
HRM_DEVICE void hrm_attn_load_keys(float* Ks, float* Vs, const Elem* k, const Elem* v, long long k0, long long T,
                                   int heads, int h) {
  hrm_attn_load_rows<HD>(Ks, k, k0, kAttnKeys, T, heads, h);
  hrm_attn_load_rows<HD>(Vs, v, k0, kAttnKeys, T, heads, h);
  hrm_sync();
}

// Whether query row t attends key u (either may lie past T in a partial tile).
HRM_DEVICE bool hrm_attn_allowed(long long t, long long u, long long T, const int* lo, const int* hi) {
  return t < T && u < T && u >= lo[t] && u < hi[t];
}

template <int HD>
HRM_DEVICE float hrm_attn_dot(const float* a, const float* b) {
  float s = 0.0f;
  for (int d = 0; d < HD; ++d) s += a[d] * b[d];
  return s;
}

// Grid: ceil(T / kAttnRows) · heads blocks (block b: query tile b / heads, head b % heads). o32, when
// not null, receives the output unrounded (the backward's D).
template <int HD, typename Elem>
HRM_DEVICE void hrm_attention_forward(const Elem* __restrict__ q, const Elem* __restrict__ k,
                                      const Elem* __restrict__ v, Elem* __restrict__ o, float* __restrict__ o32,
                                      float* __restrict__ lse, const int* __restrict__ lo, const int* __restrict__ hi,
                                      long long T, int heads) {
  HRM_SHARED float Qs[kAttnRows * HD], Ks[kAttnKeys * HD], Vs[kAttnKeys * HD], Os[kAttnRows * HD];
  HRM_SHARED float S[kAttnRows * kAttnKeys], rowMax[kAttnRows], rowSum[kAttnRows], rescale[kAttnRows];
  HRM_SHARED int range[2];
  const float scale = 1.0f / sqrtf(static_cast<float>(HD));
  const long long row0 = (hrm_block() / heads) * kAttnRows;
  const int h = static_cast<int>(hrm_block() % heads);
  hrm_attn_load_rows<HD>(Qs, q, row0, kAttnRows, T, heads, h);
  for (long long e = hrm_thread(); e < kAttnRows * HD; e += hrm_threads()) Os[e] = 0.0f;
  for (long long r = hrm_thread(); r < kAttnRows; r += hrm_threads()) {
    rowMax[r] = hrm_f32_bits(0xff800000u);
    rowSum[r] = 0.0f;
  }
  hrm_attn_union(lo, hi, row0, kAttnRows, T, range);
  for (long long k0 = range[0]; k0 < range[1]; k0 += kAttnKeys) {
    hrm_attn_load_keys<HD>(Ks, Vs, k, v, k0, T, heads, h);
    for (long long e = hrm_thread(); e < kAttnRows * kAttnKeys; e += hrm_threads()) {
      const long long r = e / kAttnKeys, u = k0 + e % kAttnKeys, t = row0 + r;
      const bool allowed = hrm_attn_allowed(t, u, T, lo, hi);
      S[e] = allowed ? hrm_attn_dot<HD>(Qs + r * HD, Ks + (e % kAttnKeys) * HD) * scale : hrm_f32_bits(0xff800000u);
    }
    hrm_sync();
    // The online softmax, one row per thread: new maximum, the old sums rescaled, probabilities in S.
    for (long long r = hrm_thread(); r < kAttnRows; r += hrm_threads()) {
      float m = rowMax[r];
      for (int j = 0; j < kAttnKeys; ++j) m = fmaxf(m, S[r * kAttnKeys + j]);
      const bool none = m == hrm_f32_bits(0xff800000u);  // no allowed key yet
      const float keep = none ? 1.0f : hrm_exp(rowMax[r] - m);
      float sum = 0.0f;
      for (int j = 0; j < kAttnKeys; ++j) {
        const float p = none ? 0.0f : hrm_exp(S[r * kAttnKeys + j] - m);
        sum += p;
        S[r * kAttnKeys + j] = hrm_operand<Elem>(p);
      }
      rowSum[r] = rowSum[r] * keep + sum;
      rowMax[r] = m;
      rescale[r] = keep;
    }
    hrm_sync();
    for (long long e = hrm_thread(); e < kAttnRows * HD; e += hrm_threads()) {
      const long long r = e / HD, d = e % HD;
      float acc = Os[e] * rescale[r];
      for (int j = 0; j < kAttnKeys; ++j) acc += S[r * kAttnKeys + j] * Vs[j * HD + d];
      Os[e] = acc;
    }
    hrm_sync();
  }
  for (long long e = hrm_thread(); e < kAttnRows * HD; e += hrm_threads()) {
    const long long r = e / HD, d = e % HD, t = row0 + r;
    const float out = rowSum[r] > 0.0f ? Os[e] / rowSum[r] : 0.0f;
    if (t < T) hrm_store(o + (t * heads + h) * HD + d, out);
    if (t < T && o32) o32[(t * heads + h) * HD + d] = out;
  }
  for (long long r = hrm_thread(); r < kAttnRows; r += hrm_threads())
    if (row0 + r < T) lse[(row0 + r) * heads + h] = rowSum[r] > 0.0f ? rowMax[r] + logf(rowSum[r]) : 0.0f;
}

// Grid as the forward. o is the forward's fp32 output; writes dq and D (= rowsum(dO ∘ O), fp32, for
// the dk/dv kernel).
template <int HD, typename Elem>
HRM_DEVICE void hrm_attention_backward_dq(const Elem* __restrict__ q, const Elem* __restrict__ k,
                                          const Elem* __restrict__ v, const float* __restrict__ o,
                                          const Elem* __restrict__ dout, const float* __restrict__ lse,
                                          Elem* __restrict__ dq, float* __restrict__ D, const int* __restrict__ lo,
                                          const int* __restrict__ hi, long long T, int heads) {
  HRM_SHARED float Qs[kAttnRows * HD], dOs[kAttnRows * HD], Ks[kAttnKeys * HD], Vs[kAttnKeys * HD],
      dQs[kAttnRows * HD];
  HRM_SHARED float P[kAttnRows * kAttnKeys], dS[kAttnRows * kAttnKeys], rowD[kAttnRows], rowLse[kAttnRows];
  HRM_SHARED int range[2];
  const float scale = 1.0f / sqrtf(static_cast<float>(HD));
  const long long row0 = (hrm_block() / heads) * kAttnRows;
  const int h = static_cast<int>(hrm_block() % heads);
  hrm_attn_load_rows<HD>(Qs, q, row0, kAttnRows, T, heads, h);
  hrm_attn_load_rows<HD>(dOs, dout, row0, kAttnRows, T, heads, h);
  hrm_attn_load_rows<HD>(dQs, o, row0, kAttnRows, T, heads, h);  // O, for D; then dq's sums
  hrm_sync();
  for (long long r = hrm_thread(); r < kAttnRows; r += hrm_threads()) {
    const long long t = row0 + r;
    rowD[r] = hrm_attn_dot<HD>(dOs + r * HD, dQs + r * HD);
    rowLse[r] = t < T ? lse[t * heads + h] : 0.0f;
    if (t < T) D[t * heads + h] = rowD[r];
  }
  hrm_sync();
  for (long long e = hrm_thread(); e < kAttnRows * HD; e += hrm_threads()) dQs[e] = 0.0f;
  hrm_attn_union(lo, hi, row0, kAttnRows, T, range);
  for (long long k0 = range[0]; k0 < range[1]; k0 += kAttnKeys) {
    hrm_attn_load_keys<HD>(Ks, Vs, k, v, k0, T, heads, h);
    // P = exp(S − lse) where allowed; dS = P ∘ (dO·vᵀ − D)
    for (long long e = hrm_thread(); e < kAttnRows * kAttnKeys; e += hrm_threads()) {
      const long long r = e / kAttnKeys, j = e % kAttnKeys, u = k0 + j, t = row0 + r;
      const bool allowed = hrm_attn_allowed(t, u, T, lo, hi);
      const float p = allowed ? hrm_exp(hrm_attn_dot<HD>(Qs + r * HD, Ks + j * HD) * scale - rowLse[r]) : 0.0f;
      const float dp = hrm_attn_dot<HD>(dOs + r * HD, Vs + j * HD);
      P[e] = p;
      dS[e] = hrm_operand<Elem>(p * (dp - rowD[r]));
    }
    hrm_sync();
    for (long long e = hrm_thread(); e < kAttnRows * HD; e += hrm_threads()) {
      const long long r = e / HD, d = e % HD;
      float acc = dQs[e];
      for (int j = 0; j < kAttnKeys; ++j) acc += dS[r * kAttnKeys + j] * Ks[j * HD + d];
      dQs[e] = acc;
    }
    hrm_sync();
  }
  for (long long e = hrm_thread(); e < kAttnRows * HD; e += hrm_threads()) {
    const long long r = e / HD, d = e % HD, t = row0 + r;
    if (t < T) hrm_store(dq + (t * heads + h) * HD + d, dQs[e] * scale);
  }
}

// Grid: ceil(T / kAttnKeys) · heads blocks (block b: key tile b / heads, head b % heads); the query
// rows of key u are [qlo[u], qhi[u]).
template <int HD, typename Elem>
HRM_DEVICE void hrm_attention_backward_dkdv(const Elem* __restrict__ q, const Elem* __restrict__ k,
                                            const Elem* __restrict__ v, const Elem* __restrict__ dout,
                                            const float* __restrict__ lse, const float* __restrict__ D,
                                            Elem* __restrict__ dk, Elem* __restrict__ dv, const int* __restrict__ lo,
                                            const int* __restrict__ hi, const int* __restrict__ qlo,
                                            const int* __restrict__ qhi, long long T, int heads) {
  HRM_SHARED float Ks[kAttnKeys * HD], Vs[kAttnKeys * HD], dKs[kAttnKeys * HD], dVs[kAttnKeys * HD];
  HRM_SHARED float Qs[kAttnSubRows * HD], dOs[kAttnSubRows * HD];
  HRM_SHARED float P[kAttnSubRows * kAttnKeys], dS[kAttnSubRows * kAttnKeys], rowD[kAttnSubRows],
      rowLse[kAttnSubRows];
  HRM_SHARED int range[2];
  const float scale = 1.0f / sqrtf(static_cast<float>(HD));
  const long long k0 = (hrm_block() / heads) * kAttnKeys;
  const int h = static_cast<int>(hrm_block() % heads);
  hrm_attn_load_keys<HD>(Ks, Vs, k, v, k0, T, heads, h);
  for (long long e = hrm_thread(); e < kAttnKeys * HD; e += hrm_threads()) dKs[e] = dVs[e] = 0.0f;
  hrm_attn_union(qlo, qhi, k0, kAttnKeys, T, range);
  for (long long r0 = range[0]; r0 < range[1]; r0 += kAttnSubRows) {
    hrm_attn_load_rows<HD>(Qs, q, r0, kAttnSubRows, T, heads, h);
    hrm_attn_load_rows<HD>(dOs, dout, r0, kAttnSubRows, T, heads, h);
    for (long long r = hrm_thread(); r < kAttnSubRows; r += hrm_threads()) {
      const long long t = r0 + r;
      rowD[r] = t < T ? D[t * heads + h] : 0.0f;
      rowLse[r] = t < T ? lse[t * heads + h] : 0.0f;
    }
    hrm_sync();
    for (long long e = hrm_thread(); e < kAttnSubRows * kAttnKeys; e += hrm_threads()) {
      const long long r = e / kAttnKeys, j = e % kAttnKeys, u = k0 + j, t = r0 + r;
      const bool allowed = hrm_attn_allowed(t, u, T, lo, hi);
      const float p = allowed ? hrm_exp(hrm_attn_dot<HD>(Qs + r * HD, Ks + j * HD) * scale - rowLse[r]) : 0.0f;
      const float dp = hrm_attn_dot<HD>(dOs + r * HD, Vs + j * HD);
      P[e] = hrm_operand<Elem>(p);
      dS[e] = hrm_operand<Elem>(p * (dp - rowD[r]));
    }
    hrm_sync();
    for (long long e = hrm_thread(); e < kAttnKeys * HD; e += hrm_threads()) {
      const long long j = e / HD, d = e % HD;
      float accK = dKs[e], accV = dVs[e];
      for (int r = 0; r < kAttnSubRows; ++r) {
        accK += dS[r * kAttnKeys + j] * Qs[r * HD + d];
        accV += P[r * kAttnKeys + j] * dOs[r * HD + d];
      }
      dKs[e] = accK;
      dVs[e] = accV;
    }
    hrm_sync();
  }
  for (long long e = hrm_thread(); e < kAttnKeys * HD; e += hrm_threads()) {
    const long long j = e / HD, d = e % HD, u = k0 + j;
    if (u < T) {
      hrm_store(dk + (u * heads + h) * HD + d, dKs[e] * scale);
      hrm_store(dv + (u * heads + h) * HD + d, dVs[e]);
    }
  }
}

// The kernels, by head dimension and storage type: extern "C" names that NVRTC and the host
// emulation both find (hrm_attention_forward_64_bf16, ...).
#define HRM_ATTENTION_KERNELS(HD, Elem, suffix)                                                                     \
  HRM_KERNEL void __launch_bounds__(128, 1)                                                                            \
      hrm_attention_forward_##HD##_##suffix(const Elem* q, const Elem* k, const Elem* v, Elem* o, float* o32,       \
                                            float* lse, const int* lo, const int* hi, long long T, int heads) {     \
    hrm_attention_forward<HD, Elem>(q, k, v, o, o32, lse, lo, hi, T, heads);                                        \
  }                                                                                                                 \
  HRM_KERNEL void __launch_bounds__(128, 1) hrm_attention_backward_dq_##HD##_##suffix(                                 \
      const Elem* q, const Elem* k, const Elem* v, const float* o, const Elem* dout, const float* lse, Elem* dq,     \
      float* D, const int* lo, const int* hi, long long T, int heads) {                                             \
    hrm_attention_backward_dq<HD, Elem>(q, k, v, o, dout, lse, dq, D, lo, hi, T, heads);                           \
  }                                                                                                                 \
  HRM_KERNEL void __launch_bounds__(128, 1) hrm_attention_backward_dkdv_##HD##_##suffix(                               \
      const Elem* q, const Elem* k, const Elem* v, const Elem* dout, const float* lse, const float* D, Elem* dk,     \
      Elem* dv, const int* lo, const int* hi, const int* qlo, const int* qhi, long long T, int heads) {             \
    hrm_attention_backward_dkdv<HD, Elem>(q, k, v, dout, lse, D, dk, dv, lo, hi, qlo, qhi, T, heads);              \
  }                                                                                                                 \
  HRM_HOST_ENTRY(hrm_attention_forward_##HD##_##suffix, (const Elem*)args[0], (const Elem*)args[1],                 \
                 (const Elem*)args[2], (Elem*)args[3], (float*)args[4], (float*)args[5], (const int*)args[6],        \
                 (const int*)args[7], *(const long long*)args[8], *(const int*)args[9])                             \
  HRM_HOST_ENTRY(hrm_attention_backward_dq_##HD##_##suffix, (const Elem*)args[0], (const Elem*)args[1],             \
                 (const Elem*)args[2], (const float*)args[3], (const Elem*)args[4], (const float*)args[5],           \
                 (Elem*)args[6], (float*)args[7], (const int*)args[8], (const int*)args[9],                         \
                 *(const long long*)args[10], *(const int*)args[11])                                                \
  HRM_HOST_ENTRY(hrm_attention_backward_dkdv_##HD##_##suffix, (const Elem*)args[0], (const Elem*)args[1],           \
                 (const Elem*)args[2], (const Elem*)args[3], (const float*)args[4], (const float*)args[5],           \
                 (Elem*)args[6], (Elem*)args[7], (const int*)args[8], (const int*)args[9], (const int*)args[10],    \
                 (const int*)args[11], *(const long long*)args[12], *(const int*)args[13])
