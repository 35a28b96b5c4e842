#include "runtime/reference/ReferenceKernels.h"

#include <cblas.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace hrmc::runtime::ref {

namespace {
// Row-major C[m, n] = op(A) · op(B), the one BLAS entry point of the reference kernels.
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, const float* b, float* c) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a,
              ta ? m : k, b, tb ? k : n, 0.0f, c, n);
}
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const double* a, const double* b, double* c) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0, a,
              ta ? m : k, b, tb ? k : n, 0.0, c, n);
}
}  // namespace

template <typename Real>
void linear(const Real* x, const Real* w, Real* y, int64_t rows, int64_t in, int64_t out) {
  if (rows > 0 && out > 0) gemm(false, true, rows, out, in, x, w, y);
}

template <typename Real>
void matmul(const Real* a, const Real* b, Real* y, int64_t rows, int64_t k, int64_t n) {
  if (rows > 0 && n > 0) gemm(false, false, rows, n, k, a, b, y);
}

template <typename Real>
void outerSum(const Real* a, const Real* b, Real* y, int64_t rows, int64_t m, int64_t n) {
  if (rows == 0) std::fill_n(y, m * n, Real(0));
  else if (m > 0 && n > 0) gemm(true, false, m, n, rows, a, b, y);
}

template <typename Real>
void rmsNorm(const Real* x, Real* y, int64_t rows, int64_t d, double eps) {
  for (int64_t r = 0; r < rows; ++r) {
    const Real* xr = x + r * d;
    Real sumsq = 0;
    for (int64_t j = 0; j < d; ++j) sumsq += xr[j] * xr[j];
    const Real inv = Real(1) / std::sqrt(sumsq / Real(d) + Real(eps));
    for (int64_t j = 0; j < d; ++j) y[r * d + j] = xr[j] * inv;
  }
}

template <typename Real>
void rope(const Real* x, Real* y, const PackedSeq& seq, int64_t heads, int64_t hd, double theta, bool inverse) {
  const int64_t half = hd / 2;
  // inv_freq[i] = 1 / theta^(2i/hd), as the reference computes it (HRM-TEXT.md §1.4).
  std::vector<Real> invFreq(half);
  for (int64_t i = 0; i < half; ++i)
    invFreq[i] = Real(1) / std::pow(Real(theta), Real(2 * i) / Real(hd));
  for (int64_t t = 0; t < seq.tokens(); ++t) {
    const Real p = Real(seq.positions[t]);
    for (int64_t i = 0; i < half; ++i) {
      const Real angle = p * invFreq[i];
      const Real c = std::cos(angle), s = inverse ? -std::sin(angle) : std::sin(angle);
      for (int64_t h = 0; h < heads; ++h) {
        const Real* xr = x + (t * heads + h) * hd;
        Real* yr = y + (t * heads + h) * hd;
        const Real a = xr[i], b = xr[i + half];
        yr[i] = a * c - b * s;
        yr[i + half] = b * c + a * s;
      }
    }
  }
}

bool mayAttend(const PackedSeq& seq, int64_t t, int64_t u, AttentionMask mask) {
  const int32_t s = seq.sampleOf[t];
  if (s < 0 || seq.sampleOf[u] != s) return false;
  const int64_t o = seq.starts[s], prefix = seq.prefixLens[s];
  switch (mask) {
    case AttentionMask::Full: return true;
    case AttentionMask::Causal: return u <= t;
    case AttentionMask::PrefixLM: return t - o < prefix ? u - o < prefix : u <= t;
  }
  return false;
}

namespace {

// The key slots query slot t attends to (empty for padding).
void keysOf(const PackedSeq& seq, int64_t t, AttentionMask mask, std::vector<int64_t>& keys) {
  keys.clear();
  const int32_t s = seq.sampleOf[t];
  if (s < 0) return;
  const int64_t begin = seq.starts[s], end = begin + seq.prefixLens[s] + seq.causalLens[s];
  for (int64_t u = begin; u < end; ++u)
    if (mayAttend(seq, t, u, mask)) keys.push_back(u);
}

// Softmax over the keys of q_t · k_u / sqrt(hd) for head h: the attention probabilities.
template <typename Real>
void probabilities(const Real* qr, const Real* k, const std::vector<int64_t>& keys, int64_t heads, int64_t h,
                   int64_t hd, std::vector<Real>& p) {
  const Real scale = Real(1) / std::sqrt(Real(hd));
  p.assign(keys.size(), 0);
  Real maxScore = -std::numeric_limits<Real>::infinity();
  for (size_t i = 0; i < keys.size(); ++i) {
    const Real* kr = k + (keys[i] * heads + h) * hd;
    Real dot = 0;
    for (int64_t j = 0; j < hd; ++j) dot += qr[j] * kr[j];
    p[i] = dot * scale;
    maxScore = std::max(maxScore, p[i]);
  }
  Real denom = 0;
  for (Real& x : p) denom += (x = std::exp(x - maxScore));
  for (Real& x : p) x /= denom;
}

}  // namespace

template <typename Real>
void attention(const Real* q, const Real* k, const Real* v, Real* o, const PackedSeq& seq, int64_t heads, int64_t hd,
               AttentionMask mask) {
  std::vector<Real> p;
  std::vector<int64_t> keys;
  for (int64_t t = 0; t < seq.tokens(); ++t) {
    keysOf(seq, t, mask, keys);
    for (int64_t h = 0; h < heads; ++h) {
      Real* out = o + (t * heads + h) * hd;
      std::fill_n(out, hd, Real(0));  // padding rows produce zeros
      if (keys.empty()) continue;
      probabilities(q + (t * heads + h) * hd, k, keys, heads, h, hd, p);
      for (size_t i = 0; i < keys.size(); ++i) {
        const Real* vr = v + (keys[i] * heads + h) * hd;
        for (int64_t j = 0; j < hd; ++j) out[j] += p[i] * vr[j];
      }
    }
  }
}

template <typename Real>
void crossEntropy(const Real* logits, const int32_t* labels, Real* ce, int64_t T, int64_t V) {
  checkLabels(labels, T, V);
  for (int64_t t = 0; t < T; ++t) {
    if (labels[t] == kIgnoreLabel) {
      ce[t] = 0;
      continue;
    }
    const Real* row = logits + t * V;
    Real m = row[0];
    for (int64_t j = 1; j < V; ++j) m = std::max(m, row[j]);
    Real sum = 0;
    for (int64_t j = 0; j < V; ++j) sum += std::exp(row[j] - m);
    ce[t] = m + std::log(sum) - row[labels[t]];
  }
}

template <typename Real>
void argmaxMatch(const Real* logits, const int32_t* labels, Real* match, int64_t T, int64_t V) {
  checkLabels(labels, T, V);
  for (int64_t t = 0; t < T; ++t) {
    const Real* row = logits + t * V;
    int64_t best = 0;
    for (int64_t j = 1; j < V; ++j)
      if (row[j] > row[best]) best = j;
    match[t] = labels[t] != kIgnoreLabel && best == labels[t] ? Real(1) : Real(0);
  }
}

template <typename Real>
Real labelMean(const Real* values, const int32_t* labels, int64_t T) {
  Real sum = 0;
  int64_t n = 0;
  for (int64_t t = 0; t < T; ++t)
    if (labels[t] != kIgnoreLabel) {
      sum += values[t];
      ++n;
    }
  return n ? sum / Real(n) : Real(0);
}

template <typename Real>
Real exactMatch(const Real* match, const int32_t* labels, const PackedSeq& seq) {
  std::vector<int64_t> valid(seq.samples(), 0), wrong(seq.samples(), 0);
  for (int64_t t = 0; t < seq.tokens(); ++t) {
    const int32_t s = seq.sampleOf[t];
    if (s < 0 || labels[t] == kIgnoreLabel) continue;
    ++valid[s];
    if (match[t] == Real(0)) ++wrong[s];
  }
  int64_t counted = 0, exact = 0;
  for (int64_t s = 0; s < seq.samples(); ++s)
    if (valid[s] > 0) {
      ++counted;
      exact += wrong[s] == 0;
    }
  return counted ? Real(exact) / Real(counted) : Real(0);
}

template <typename Real>
void embeddingGrad(const int32_t* tokens, const Real* g, Real* table, int64_t T, int64_t d, int64_t vocab) {
  for (int64_t t = 0; t < T; ++t) {
    if (tokens[t] < 0 || tokens[t] >= vocab)
      throw BatchError("token id " + std::to_string(tokens[t]) + " at position " + std::to_string(t) +
                       " is outside the vocabulary [0, " + std::to_string(vocab) + ")");
    for (int64_t j = 0; j < d; ++j) table[tokens[t] * d + j] += g[t * d + j];
  }
}

template <typename Real>
void rmsNormGrad(const Real* x, const Real* g, Real* dx, int64_t rows, int64_t d, double eps) {
  for (int64_t r = 0; r < rows; ++r) {
    const Real* xr = x + r * d;
    const Real* gr = g + r * d;
    Real sumsq = 0, dot = 0;
    for (int64_t j = 0; j < d; ++j) {
      sumsq += xr[j] * xr[j];
      dot += gr[j] * xr[j];
    }
    const Real inv = Real(1) / std::sqrt(sumsq / Real(d) + Real(eps));
    const Real k = inv * inv * inv * dot / Real(d);
    for (int64_t j = 0; j < d; ++j) dx[r * d + j] = inv * gr[j] - k * xr[j];
  }
}

template <typename Real>
void attentionGrad(const Real* q, const Real* k, const Real* v, const Real* dout, Real* dq, Real* dk, Real* dv,
                   const PackedSeq& seq, int64_t heads, int64_t hd, AttentionMask mask) {
  const int64_t T = seq.tokens();
  const Real scale = Real(1) / std::sqrt(Real(hd));
  std::fill_n(dq, T * heads * hd, Real(0));
  std::fill_n(dk, T * heads * hd, Real(0));
  std::fill_n(dv, T * heads * hd, Real(0));
  std::vector<Real> p, dp;
  std::vector<int64_t> keys;
  for (int64_t t = 0; t < T; ++t) {
    keysOf(seq, t, mask, keys);  // padding rows: zero output, no gradient
    for (int64_t h = 0; h < heads && !keys.empty(); ++h) {
      const Real* qr = q + (t * heads + h) * hd;
      const Real* gr = dout + (t * heads + h) * hd;
      probabilities(qr, k, keys, heads, h, hd, p);
      // dp_u = dout_t · v_u;  ds_u = p_u (dp_u − Σ p dp)
      dp.assign(keys.size(), 0);
      Real pdp = 0;
      for (size_t i = 0; i < keys.size(); ++i) {
        const Real* vr = v + (keys[i] * heads + h) * hd;
        for (int64_t j = 0; j < hd; ++j) dp[i] += gr[j] * vr[j];
        pdp += p[i] * dp[i];
      }
      Real* dqr = dq + (t * heads + h) * hd;
      for (size_t i = 0; i < keys.size(); ++i) {
        const Real ds = p[i] * (dp[i] - pdp) * scale;
        const Real* kr = k + (keys[i] * heads + h) * hd;
        Real* dkr = dk + (keys[i] * heads + h) * hd;
        Real* dvr = dv + (keys[i] * heads + h) * hd;
        for (int64_t j = 0; j < hd; ++j) {
          dqr[j] += ds * kr[j];
          dkr[j] += ds * qr[j];
          dvr[j] += p[i] * gr[j];
        }
      }
    }
  }
}

template <typename Real>
void crossEntropyGrad(const Real* logits, const int32_t* labels, const Real* g, Real* dlogits, int64_t T, int64_t V) {
  checkLabels(labels, T, V);
  for (int64_t t = 0; t < T; ++t) {
    Real* out = dlogits + t * V;
    if (labels[t] == kIgnoreLabel) {
      std::fill_n(out, V, Real(0));
      continue;
    }
    const Real* row = logits + t * V;
    Real m = row[0];
    for (int64_t j = 1; j < V; ++j) m = std::max(m, row[j]);
    Real sum = 0;
    for (int64_t j = 0; j < V; ++j) sum += (out[j] = std::exp(row[j] - m));
    for (int64_t j = 0; j < V; ++j) out[j] = out[j] / sum * g[t];
    out[labels[t]] -= g[t];
  }
}

template <typename Real>
void labelMeanGrad(const int32_t* labels, Real g, Real* out, int64_t T) {
  int64_t n = 0;
  for (int64_t t = 0; t < T; ++t) n += labels[t] != kIgnoreLabel;
  for (int64_t t = 0; t < T; ++t) out[t] = labels[t] != kIgnoreLabel ? g / Real(n) : Real(0);
}

#define HRMC_INSTANTIATE(Real)                                                                               \
  template void linear<Real>(const Real*, const Real*, Real*, int64_t, int64_t, int64_t);                   \
  template void matmul<Real>(const Real*, const Real*, Real*, int64_t, int64_t, int64_t);                   \
  template void outerSum<Real>(const Real*, const Real*, Real*, int64_t, int64_t, int64_t);                 \
  template void rmsNorm<Real>(const Real*, Real*, int64_t, int64_t, double);                                \
  template void rope<Real>(const Real*, Real*, const PackedSeq&, int64_t, int64_t, double, bool);           \
  template void embeddingGrad<Real>(const int32_t*, const Real*, Real*, int64_t, int64_t, int64_t);         \
  template void rmsNormGrad<Real>(const Real*, const Real*, Real*, int64_t, int64_t, double);               \
  template void attentionGrad<Real>(const Real*, const Real*, const Real*, const Real*, Real*, Real*, Real*, \
                                    const PackedSeq&, int64_t, int64_t, AttentionMask);                     \
  template void crossEntropyGrad<Real>(const Real*, const int32_t*, const Real*, Real*, int64_t, int64_t);  \
  template void labelMeanGrad<Real>(const int32_t*, Real, Real*, int64_t);                                  \
  template void attention<Real>(const Real*, const Real*, const Real*, Real*, const PackedSeq&, int64_t,    \
                                int64_t, AttentionMask);                                                    \
  template void crossEntropy<Real>(const Real*, const int32_t*, Real*, int64_t, int64_t);                   \
  template void argmaxMatch<Real>(const Real*, const int32_t*, Real*, int64_t, int64_t);                    \
  template Real labelMean<Real>(const Real*, const int32_t*, int64_t);                                      \
  template Real exactMatch<Real>(const Real*, const int32_t*, const PackedSeq&);
HRMC_INSTANTIATE(float)
HRMC_INSTANTIATE(double)
#undef HRMC_INSTANTIATE

}  // namespace hrmc::runtime::ref
