#pragma once
// The reference semantics of the primitives that are more than index bookkeeping, as plain loops
// (BLAS for the matrix products). Real is float (fp32 runs) or double (fp64 runs, gradient checks).
// These are the oracle: every backend is tested against them.
#include <cstdint>

#include "dsl/sema/MaskKind.h"
#include "runtime/batch/PackedBatch.h"
#include "runtime/exec/Labels.h"

namespace hrmc::runtime::ref {

using AttentionMask = dsl::MaskKind;

// y[r, o] = Σ_i x[r, i] · w[o, i]   (x Wᵀ, W stored [out, in])
template <typename Real>
void linear(const Real* x, const Real* w, Real* y, int64_t rows, int64_t in, int64_t out);
// y[r, n] = Σ_k a[r, k] · b[k, n]
template <typename Real>
void matmul(const Real* a, const Real* b, Real* y, int64_t rows, int64_t k, int64_t n);
// y = x / sqrt(mean(x²) + eps) per row of d elements (HRM-TEXT.md §1.3)
template <typename Real>
void rmsNorm(const Real* x, Real* y, int64_t rows, int64_t d, double eps);
// Rotate-half RoPE of [T, heads, hd] at seq.positions (HRM-TEXT.md §1.4); tables in Real precision.
// With inverse, rotates by the negative angle (the transpose: rope's VJP).
template <typename Real>
void rope(const Real* x, Real* y, const PackedSeq& seq, int64_t heads, int64_t hd, double theta, bool inverse = false);
// Attention over packed samples (HRM-TEXT.md §3.6): q, k, v, o are [T, heads, hd]; padding rows get 0.
template <typename Real>
void attention(const Real* q, const Real* k, const Real* v, Real* o, const PackedSeq& seq, int64_t heads, int64_t hd,
               AttentionMask mask);
// Whether query slot t may attend key slot u under the mask (same sample only).
bool mayAttend(const PackedSeq& seq, int64_t t, int64_t u, AttentionMask mask);
// ce[t] = logsumexp(logits[t]) − logits[t, label[t]], or 0 where label == -100. Throws on a label
// outside [0, V).
template <typename Real>
void crossEntropy(const Real* logits, const int32_t* labels, Real* ce, int64_t T, int64_t V);
// match[t] = 1 where label[t] != -100 and argmax(logits[t]) == label[t] (first maximum wins), else 0.
template <typename Real>
void argmaxMatch(const Real* logits, const int32_t* labels, Real* match, int64_t T, int64_t V);
// Σ values over valid labels / #valid (0 when none).
template <typename Real>
Real labelMean(const Real* values, const int32_t* labels, int64_t T);
// #samples with ≥1 valid label whose valid labels all match / #such samples (0 when none).
template <typename Real>
Real exactMatch(const Real* match, const int32_t* labels, const PackedSeq& seq);

// ---- backward-only primitives (the VJPs)

// y[m, n] = Σ_r a[r, m] · b[r, n]   (aᵀ b)
template <typename Real>
void outerSum(const Real* a, const Real* b, Real* y, int64_t rows, int64_t m, int64_t n);
// table[tok[t], :] += g[t, :]   (table of vocab rows, zeroed by the caller)
template <typename Real>
void embeddingGrad(const int32_t* tokens, const Real* g, Real* table, int64_t T, int64_t d, int64_t vocab);
// dx of y = x / sqrt(mean(x²) + eps): r (g − x r² mean(g x))
template <typename Real>
void rmsNormGrad(const Real* x, const Real* g, Real* dx, int64_t rows, int64_t d, double eps);
// dq, dk, dv of attention for output gradient dout, recomputing the probabilities.
template <typename Real>
void attentionGrad(const Real* q, const Real* k, const Real* v, const Real* dout, Real* dq, Real* dk, Real* dv,
                   const PackedSeq& seq, int64_t heads, int64_t hd, AttentionMask mask);
// dlogits[t] = (softmax(logits[t]) − onehot(label[t])) · g[t] for valid labels, 0 elsewhere
template <typename Real>
void crossEntropyGrad(const Real* logits, const int32_t* labels, const Real* g, Real* dlogits, int64_t T, int64_t V);
// out[t] = g / #valid where label[t] is valid, else 0
template <typename Real>
void labelMeanGrad(const int32_t* labels, Real g, Real* out, int64_t T);

}  // namespace hrmc::runtime::ref
