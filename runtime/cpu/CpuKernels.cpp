#include "runtime/cpu/CpuKernels.h"

#include <algorithm>
#include <cmath>
#include <bit>
#include <cstring>
#include <limits>

#include <cblas.h>

#include "runtime/cpu/ThreadPool.h"
#include "runtime/reference/ReferenceKernels.h"

namespace hrmc::runtime::cpu {

namespace {

using compiler::MaskKind;

// exp(x) for x <= 0 within 2 ulp (Cody-Waite reduction + Cephes polynomial), branch-free so that the
// loops around it vectorise.
__attribute__((always_inline)) inline float fastExp(float x) {

  x = x < -87.0f ? -87.0f : x;
  // n = round(x / ln 2); x + 128 ln 2 > 0 makes truncation a floor (cvttps vectorises, floor does not).
  const int32_t ni = static_cast<int32_t>(x * 1.44269504088896341f + 128.5f) - 128;
  const float n = static_cast<float>(ni);
  const float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  return p * std::bit_cast<float>((ni + 127) << 23);
}

// Sample s occupies slots [begin, begin + length); query t sees keys [begin, keyEnd(t)).
struct SampleSpan {
  int64_t begin, length, prefix;
  int64_t keyEnd(int64_t t, MaskKind mask) const {
    switch (mask) {
      case MaskKind::Full: return begin + length;
      case MaskKind::Causal: return t + 1;
      case MaskKind::PrefixLM: return t - begin < prefix ? begin + prefix : t + 1;
    }
    return t + 1;
  }
};

SampleSpan spanOf(const PackedSeq& seq, int64_t s) {
  return {seq.starts[s], seq.prefixLens[s] + seq.causalLens[s], seq.prefixLens[s]};
}

void zeroPadding(const PackedSeq& seq, int64_t rowElems, std::initializer_list<float*> outs) {
  for (int64_t t = seq.totalSeqlen; t < seq.tokens(); ++t)
    for (float* o : outs) std::fill_n(o + t * rowElems, rowElems, 0.0f);
  for (int64_t t = 0; t < seq.totalSeqlen; ++t)
    if (seq.sampleOf[t] < 0)
      for (float* o : outs) std::fill_n(o + t * rowElems, rowElems, 0.0f);
}

// One (sample, head) of attention. Its keys and values are packed first (kᵀ as [hd][n], so that a
// query's scores against a block of keys vectorise over the keys; v as [n][hd]); each query then runs
// an online softmax over blocks of kKeyBlock keys, so memory stays O(n) per thread whatever the
// sample length, and no T×T (or n×n) matrix exists.
constexpr int64_t kKeyBlock = 256;

constexpr int64_t kScoreBlock = 64;
inline int64_t padded(int64_t n) { return (n + kScoreBlock - 1) / kScoreBlock * kScoreBlock; }

// The helpers are always inlined, so that they are compiled for each target clone of their callers
// (a call would run the baseline x86-64 build of them).
// 16 floats as one value (GCC vector extension): accumulators of this type stay in registers (one
// zmm on AVX-512, two ymm on AVX2), where arrays of floats were spilled to the stack every iteration.
typedef float V16 __attribute__((vector_size(64)));
__attribute__((always_inline)) inline V16 load16(const float* p) {
  V16 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
__attribute__((always_inline)) inline void store16(float* p, V16 v) { std::memcpy(p, &v, sizeof v); }

struct HeadView {
  const float* base;  // row `begin` of head h
  int64_t stride;     // between rows: heads · hd
  const float* row(int64_t j) const { return base + j * stride; }
};

// kt[d][j] = k_j[d] (rows of padded(n), zero beyond n); vp[j][d] = v_j[d]
void packHead(HeadView k, HeadView v, int64_t n, int64_t hd, float* kt, float* vp) {
  const int64_t ldk = padded(n);
  std::fill_n(kt, hd * ldk, 0.0f);
  for (int64_t j = 0; j < n; ++j) {
    const float* kr = k.row(j);
    for (int64_t d = 0; d < hd; ++d) kt[d * ldk + j] = kr[d];
    std::copy_n(v.row(j), hd, vp + j * hd);
  }
}

// s[j] = scale · q · k_j for j in [j0, j1), from the packed kᵀ (rows padded to a multiple of
// kScoreBlock): a block of scores stays in registers while the head dimension is summed.

__attribute__((always_inline)) inline void scores(const float* q, const float* kt, int64_t ldk, int64_t hd, float scale, int64_t j0, int64_t j1,
                   float* s) {
  constexpr int kVectors = kScoreBlock / 16;
  for (int64_t jb = j0; jb < j1; jb += kScoreBlock) {
    V16 acc[kVectors] = {};
    for (int64_t d = 0; d < hd; ++d) {
      const float qd = q[d] * scale;
      const float* kd = kt + d * ldk + jb;
      for (int v = 0; v < kVectors; ++v) acc[v] += qd * load16(kd + 16 * v);
    }
    float block[kScoreBlock];
    for (int v = 0; v < kVectors; ++v) store16(block + 16 * v, acc[v]);
    std::copy_n(block, std::min(kScoreBlock, j1 - jb), s + jb);
  }
}

// s[j] = exp(s[j] - m) over [j0, j1); returns their sum.
__attribute__((always_inline)) inline float expAndSum(float* s, int64_t j0, int64_t j1, float m) {
#pragma omp simd
  for (int64_t j = j0; j < j1; ++j) s[j] = fastExp(s[j] - m);
  float l = 0;
#pragma omp simd reduction(+ : l)
  for (int64_t j = j0; j < j1; ++j) l += s[j];
  return l;
}

// acc[d] += Σ_j w[j] rows[j][d] over j in [j0, j1); HD > 0 fixes the head size at compile time so
// that the accumulator stays in registers.
template <int HD>
__attribute__((always_inline)) inline void weightedRows(const float* w, const float* rows, int64_t j0, int64_t j1, int64_t hd, float* acc) {
  if constexpr (HD > 0) {
    constexpr int kVectors = HD / 16;
    V16 a[kVectors];
    for (int v = 0; v < kVectors; ++v) a[v] = load16(acc + 16 * v);
    for (int64_t j = j0; j < j1; ++j) {
      const float wj = w[j];
      const float* r = rows + j * HD;
      for (int v = 0; v < kVectors; ++v) a[v] += wj * load16(r + 16 * v);
    }
    for (int v = 0; v < kVectors; ++v) store16(acc + 16 * v, a[v]);
  } else {
    for (int64_t j = j0; j < j1; ++j) {
      const float wj = w[j];
      const float* r = rows + j * hd;
#pragma omp simd
      for (int64_t d = 0; d < hd; ++d) acc[d] += wj * r[d];
    }
  }
}

template <int HD>
__attribute__((target_clones("avx512f", "avx2", "default")))
void attendHead(const float* q, HeadView k, HeadView v, float* o, const SampleSpan& span, int64_t hd, MaskKind mask,
                std::vector<float>& scratch) {
  const int64_t n = span.length;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const int64_t ldk = padded(n);
  scratch.resize(ldk * hd + n * hd + ldk + hd);
  float *kt = scratch.data(), *vp = kt + ldk * hd, *s = vp + n * hd, *acc = s + ldk;
  packHead(k, v, n, hd, kt, vp);
  const int64_t stride = k.stride;
  for (int64_t i = 0; i < n; ++i) {
    const float* qi = q + i * stride;
    const int64_t end = span.keyEnd(span.begin + i, mask) - span.begin;
    float m = -std::numeric_limits<float>::infinity(), l = 0;
    std::fill_n(acc, hd, 0.0f);
    for (int64_t j0 = 0; j0 < end; j0 += kKeyBlock) {
      const int64_t j1 = std::min(end, j0 + kKeyBlock);
      scores(qi, kt, ldk, hd, scale, j0, j1, s);
      float blockMax = m;
      for (int64_t j = j0; j < j1; ++j) blockMax = std::max(blockMax, s[j]);
      if (blockMax > m) {  // rescale what was accumulated under the old maximum
        const float c = fastExp(m - blockMax);
        l *= c;
        for (int64_t d = 0; d < hd; ++d) acc[d] *= c;
        m = blockMax;
      }
      l += expAndSum(s, j0, j1, m);
      weightedRows<HD>(s, vp, j0, j1, hd, acc);
    }
    float* oi = o + i * stride;
    const float inv = 1.0f / l;
    for (int64_t d = 0; d < hd; ++d) oi[d] = acc[d] * inv;
  }
}

template <int HD>
__attribute__((target_clones("avx512f", "avx2", "default")))
void attendHeadGrad(const float* q, HeadView k, HeadView v, const float* dout, float* dq, float* dk, float* dv,
                    const SampleSpan& span, int64_t hd, MaskKind mask, std::vector<float>& scratch) {
  const int64_t n = span.length;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  // kᵀ and vᵀ (scores and dp vectorise over keys), k rows (dq), and dk, dv accumulated packed.
  const int64_t ldk = padded(n);
  scratch.assign(2 * ldk * hd + 3 * n * hd + 2 * ldk, 0.0f);
  float *kt = scratch.data(), *vt = kt + ldk * hd, *kp = vt + ldk * hd, *dkp = kp + n * hd, *dvp = dkp + n * hd;
  float *p = dvp + n * hd, *dp = p + ldk;
  packHead(k, v, n, hd, kt, kp);  // kp holds v for a moment: transpose it into vt
  for (int64_t j = 0; j < n; ++j)
    for (int64_t d = 0; d < hd; ++d) vt[d * ldk + j] = kp[j * hd + d];
  for (int64_t j = 0; j < n; ++j) std::copy_n(k.row(j), hd, kp + j * hd);
  const int64_t stride = k.stride;
  for (int64_t i = 0; i < n; ++i) {
    const float* qi = q + i * stride;
    const float* gi = dout + i * stride;
    const int64_t end = span.keyEnd(span.begin + i, mask) - span.begin;
    scores(qi, kt, ldk, hd, scale, 0, end, p);
    float m = -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < end; ++j) m = std::max(m, p[j]);
    const float inv = 1.0f / expAndSum(p, 0, end, m);
    scores(gi, vt, ldk, hd, 1.0f, 0, end, dp);  // dp_j = dout_i · v_j
    float pdp = 0;
#pragma omp simd reduction(+ : pdp)
    for (int64_t j = 0; j < end; ++j) {
      p[j] *= inv;
      pdp += p[j] * dp[j];
    }
#pragma omp simd
    for (int64_t j = 0; j < end; ++j) dp[j] = p[j] * (dp[j] - pdp) * scale;  // ds_j
    float* dqi = dq + i * stride;
    std::fill_n(dqi, hd, 0.0f);
    weightedRows<HD>(dp, kp, 0, end, hd, dqi);
    for (int64_t j = 0; j < end; ++j) {
      const float ds = dp[j], pj = p[j];
      float* dkj = dkp + j * hd;
      float* dvj = dvp + j * hd;
#pragma omp simd
      for (int64_t d = 0; d < hd; ++d) {
        dkj[d] += ds * qi[d];
        dvj[d] += pj * gi[d];
      }
    }
  }
  for (int64_t j = 0; j < n; ++j) {
    std::copy_n(dkp + j * hd, hd, dk + j * stride);
    std::copy_n(dvp + j * hd, hd, dv + j * stride);
  }
}

template <typename F>
void forEachHeadSize(int64_t hd, F&& f) {
  switch (hd) {
    case 32: f(std::integral_constant<int, 32>()); break;
    case 64: f(std::integral_constant<int, 64>()); break;
    case 128: f(std::integral_constant<int, 128>()); break;
    default: f(std::integral_constant<int, 0>()); break;
  }
}

}  // namespace

namespace {
// Calls fn(size, sample span, offset of the sample's first row in head h) for every (sample, head),
// spread over the threads, with HD the head size when it is one of the specialised ones.
template <typename F>
void forEachSampleHead(const PackedSeq& seq, int64_t heads, int64_t hd, F&& fn) {
  const int64_t stride = heads * hd;
  forEachHeadSize(hd, [&](auto size) {
    ThreadPool::instance().parallelFor(seq.samples() * heads, 1, [&](int64_t first, int64_t last) {
      std::vector<float> scratch;
      for (int64_t item = first; item < last; ++item) {
        const SampleSpan span = spanOf(seq, item / heads);
        fn(size, span, span.begin * stride + (item % heads) * hd, scratch);
      }
    });
  });
}
}  // namespace

void attention(const float* q, const float* k, const float* v, float* o, const PackedSeq& seq, int64_t heads,
               int64_t hd, MaskKind mask) {
  const int64_t stride = heads * hd;
  zeroPadding(seq, stride, {o});
  forEachSampleHead(seq, heads, hd, [&](auto size, const SampleSpan& span, int64_t at, std::vector<float>& scratch) {
    attendHead<decltype(size)::value>(q + at, {k + at, stride}, {v + at, stride}, o + at, span, hd, mask, scratch);
  });
}

void attentionCached(const float* q, const float* kc, const float* vc, float* o, int64_t first, int64_t rows,
                     int64_t prefix, int64_t heads, int64_t hd) {
  const int64_t stride = heads * hd;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  ThreadPool::instance().parallelFor(rows * heads, 1, [&](int64_t a, int64_t b) {
    std::vector<float> s(first + rows), acc(hd);
    for (int64_t item = a; item < b; ++item) {
      const int64_t i = item / heads, h = item % heads, pos = first + i;
      const int64_t end = pos < prefix ? prefix : pos + 1;
      const float* qi = q + i * stride + h * hd;
      float m = -std::numeric_limits<float>::infinity();
      for (int64_t j = 0; j < end; ++j) {
        const float* kj = kc + j * stride + h * hd;
        float d = 0;
        for (int64_t c = 0; c < hd; ++c) d += qi[c] * kj[c];
        m = std::max(m, s[j] = d * scale);
      }
      const float inv = 1.0f / expAndSum(s.data(), 0, end, m);
      std::fill(acc.begin(), acc.end(), 0.0f);
      for (int64_t j = 0; j < end; ++j) {
        const float* vj = vc + j * stride + h * hd;
        for (int64_t c = 0; c < hd; ++c) acc[c] += s[j] * vj[c];
      }
      float* oi = o + i * stride + h * hd;
      for (int64_t c = 0; c < hd; ++c) oi[c] = acc[c] * inv;
    }
  });
}

void attentionGrad(const float* q, const float* k, const float* v, const float* dout, float* dq, float* dk, float* dv,
                   const PackedSeq& seq, int64_t heads, int64_t hd, MaskKind mask) {
  const int64_t stride = heads * hd;
  zeroPadding(seq, stride, {dq, dk, dv});
  // dk and dv of a sample's keys collect from all its queries: one work item per (sample, head).
  forEachSampleHead(seq, heads, hd, [&](auto size, const SampleSpan& span, int64_t at, std::vector<float>& scratch) {
    attendHeadGrad<decltype(size)::value>(q + at, {k + at, stride}, {v + at, stride}, dout + at, dq + at, dk + at,
                                          dv + at, span, hd, mask, scratch);
  });
}

void useSingleThreadedBlas() { openblas_set_num_threads(1); }

void linear(const float* x, const float* w, float* y, int64_t rows, int64_t in, int64_t out) {
  ThreadPool::instance().parallelFor(rows, 32, [&](int64_t r0, int64_t r1) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r1 - r0, out, in, 1.0f, x + r0 * in, in, w, in, 0.0f,
                y + r0 * out, out);
  });
}

void matmul(const float* a, const float* b, float* y, int64_t rows, int64_t k, int64_t n) {
  ThreadPool::instance().parallelFor(rows, 32, [&](int64_t r0, int64_t r1) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r1 - r0, n, k, 1.0f, a + r0 * k, k, b, n, 0.0f, y + r0 * n, n);
  });
}

void outerSum(const float* a, const float* b, float* y, int64_t rows, int64_t m, int64_t n) {
  // The sum runs over rows: split the output's columns instead.
  ThreadPool::instance().parallelFor(n, 16, [&](int64_t c0, int64_t c1) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, c1 - c0, rows, 1.0f, a, m, b + c0, n, 0.0f, y + c0, n);
  });
}

void rope(const float* x, float* y, const PackedSeq& seq, int64_t heads, int64_t hd, double theta, bool inverse) {
  const int64_t half = hd / 2;
  int32_t maxPos = 0;
  for (int32_t p : seq.positions) maxPos = std::max(maxPos, p);
  // cos/sin per (position, frequency), computed exactly as ref::rope<float> computes them per token.
  std::vector<float> invFreq(half), cosTable((maxPos + 1) * half), sinTable((maxPos + 1) * half);
  for (int64_t i = 0; i < half; ++i)
    invFreq[i] = 1.0f / std::pow(static_cast<float>(theta), static_cast<float>(2 * i) / static_cast<float>(hd));
  for (int32_t p = 0; p <= maxPos; ++p)
    for (int64_t i = 0; i < half; ++i) {
      const float angle = static_cast<float>(p) * invFreq[i];
      cosTable[p * half + i] = std::cos(angle);
      sinTable[p * half + i] = inverse ? -std::sin(angle) : std::sin(angle);
    }
  ThreadPool::instance().parallelFor(seq.tokens(), 256, [&](int64_t first, int64_t last) {
    for (int64_t t = first; t < last; ++t) {
      const float* c = cosTable.data() + seq.positions[t] * half;
      const float* s = sinTable.data() + seq.positions[t] * half;
      for (int64_t h = 0; h < heads; ++h) {
        const float* xr = x + (t * heads + h) * hd;
        float* yr = y + (t * heads + h) * hd;
#pragma omp simd
        for (int64_t i = 0; i < half; ++i) {
          const float a = xr[i], b = xr[i + half];
          yr[i] = a * c[i] - b * s[i];
          yr[i + half] = b * c[i] + a * s[i];
        }
      }
    }
  });
}

void rmsNormGrad(const float* x, const float* g, float* dx, int64_t rows, int64_t d, double eps) {
  ThreadPool::instance().parallelFor(rows, 256, [&](int64_t first, int64_t last) {
    ref::rmsNormGrad(x + first * d, g + first * d, dx + first * d, last - first, d, eps);
  });
}

void unbroadcast(const float* x, const std::vector<int64_t>& from, float* y, const std::vector<int64_t>& to) {
  const size_t rank = from.size(), lead = rank - to.size();
  std::vector<int64_t> toStride(rank, 0);  // y's stride for each of x's dims (0 where broadcast)
  for (size_t j = to.size(), stride = 1; j-- > 0;) {
    if (to[j] != 1) toStride[lead + j] = static_cast<int64_t>(stride);
    stride *= static_cast<size_t>(to[j]);
  }
  int64_t total = 1, yTotal = 1;
  for (int64_t d : from) total *= d;
  for (int64_t d : to) yTotal *= d;
  std::fill_n(y, yTotal, 0.0f);
  std::vector<int64_t> index(rank, 0);
  int64_t at = 0;
  for (int64_t i = 0; i < total; ++i) {
    y[at] += x[i];
    for (size_t d = rank; d-- > 0;) {  // next multi-index, keeping y's offset in step
      at += toStride[d];
      if (++index[d] < from[d]) break;
      at -= toStride[d] * from[d];
      index[d] = 0;
    }
  }
}

void maxGrad(const float* x, const float* g, float* y, const std::vector<int64_t>& shape, int64_t axis) {
  int64_t outer = 1, inner = 1, total = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= shape[i];
  for (size_t i = axis + 1; i < shape.size(); ++i) inner *= shape[i];
  for (int64_t d : shape) total *= d;
  const int64_t dim = shape[axis];
  std::fill_n(y, total, 0.0f);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      int64_t best = 0;
      for (int64_t d = 1; d < dim; ++d)
        if (x[(o * dim + d) * inner + i] > x[(o * dim + best) * inner + i]) best = d;
      y[(o * dim + best) * inner + i] = g[o * inner + i];
    }
}

}  // namespace hrmc::runtime::cpu
