#include "runtime/cpu/CpuKernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "runtime/cpu/ThreadPool.h"
#include "runtime/reference/ReferenceKernels.h"

namespace hrmc::runtime::cpu {

namespace {

using compiler::MaskKind;

// exp(x) for x <= 0 within 2 ulp (Cody-Waite reduction + Cephes polynomial), branch-free so that the
// loops around it vectorise.
inline float fastExp(float x) {

  x = std::max(x, -87.0f);
  const float n = std::floor(x * 1.44269504088896341f + 0.5f);
  const float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

inline float dot(const float* a, const float* b, int64_t n) {
  float s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

inline void axpy(float a, const float* x, float* y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
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

constexpr int64_t kKeyBlock = 64;
constexpr int64_t kQueryBlock = 32;

}  // namespace

void attention(const float* q, const float* k, const float* v, float* o, const PackedSeq& seq, int64_t heads,
               int64_t hd, MaskKind mask) {
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const int64_t stride = heads * hd;
  struct Item {
    int64_t sample, head, q0, q1;
  };
  std::vector<Item> items;
  for (int64_t s = 0; s < seq.samples(); ++s) {
    const SampleSpan span = spanOf(seq, s);
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t q0 = span.begin; q0 < span.begin + span.length; q0 += kQueryBlock)
        items.push_back({s, h, q0, std::min(q0 + kQueryBlock, span.begin + span.length)});
  }
  zeroPadding(seq, stride, {o});
  ThreadPool::instance().parallelFor(static_cast<int64_t>(items.size()), 1, [&](int64_t first, int64_t last) {
    std::vector<float> acc(hd);
    float scores[kKeyBlock];
    for (int64_t i = first; i < last; ++i) {
      const Item& it = items[i];
      const SampleSpan span = spanOf(seq, it.sample);
      for (int64_t t = it.q0; t < it.q1; ++t) {
        const float* qt = q + t * stride + it.head * hd;
        const int64_t end = span.keyEnd(t, mask);
        float m = -std::numeric_limits<float>::infinity(), l = 0;
        std::fill(acc.begin(), acc.end(), 0.0f);
        for (int64_t u0 = span.begin; u0 < end; u0 += kKeyBlock) {
          const int64_t n = std::min(kKeyBlock, end - u0);
          float blockMax = -std::numeric_limits<float>::infinity();
          for (int64_t j = 0; j < n; ++j) {
            scores[j] = dot(qt, k + (u0 + j) * stride + it.head * hd, hd) * scale;
            blockMax = std::max(blockMax, scores[j]);
          }
          if (blockMax > m) {  // rescale what was accumulated under the old maximum
            const float c = fastExp(m - blockMax);
            l *= c;
            for (float& a : acc) a *= c;
            m = blockMax;
          }
#pragma omp simd reduction(+ : l)
          for (int64_t j = 0; j < n; ++j) l += (scores[j] = fastExp(scores[j] - m));
          for (int64_t j = 0; j < n; ++j) axpy(scores[j], v + (u0 + j) * stride + it.head * hd, acc.data(), hd);
        }
        float* ot = o + t * stride + it.head * hd;
        const float inv = 1.0f / l;
        for (int64_t j = 0; j < hd; ++j) ot[j] = acc[j] * inv;
      }
    }
  });
}

void attentionGrad(const float* q, const float* k, const float* v, const float* dout, float* dq, float* dk, float* dv,
                   const PackedSeq& seq, int64_t heads, int64_t hd, MaskKind mask) {
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const int64_t stride = heads * hd;
  zeroPadding(seq, stride, {dq, dk, dv});
  // dk and dv of a sample's keys collect from all its queries: one work item per (sample, head).
  const int64_t items = seq.samples() * heads;
  ThreadPool::instance().parallelFor(items, 1, [&](int64_t first, int64_t last) {
    std::vector<float> p, dp;
    for (int64_t i = first; i < last; ++i) {
      const int64_t s = i / heads, h = i % heads;
      const SampleSpan span = spanOf(seq, s);
      p.resize(span.length);
      dp.resize(span.length);
      for (int64_t t = span.begin; t < span.begin + span.length; ++t) {
        std::fill_n(dq + t * stride + h * hd, hd, 0.0f);
        std::fill_n(dk + t * stride + h * hd, hd, 0.0f);
        std::fill_n(dv + t * stride + h * hd, hd, 0.0f);
      }
      for (int64_t t = span.begin; t < span.begin + span.length; ++t) {
        const float* qt = q + t * stride + h * hd;
        const float* gt = dout + t * stride + h * hd;
        const int64_t n = span.keyEnd(t, mask) - span.begin;
        const float* kb = k + span.begin * stride + h * hd;
        const float* vb = v + span.begin * stride + h * hd;
        float m = -std::numeric_limits<float>::infinity();
        for (int64_t j = 0; j < n; ++j) m = std::max(m, p[j] = dot(qt, kb + j * stride, hd) * scale);
        float l = 0;
#pragma omp simd reduction(+ : l)
        for (int64_t j = 0; j < n; ++j) l += (p[j] = fastExp(p[j] - m));
        const float inv = 1.0f / l;
        float pdp = 0;
        for (int64_t j = 0; j < n; ++j) {
          p[j] *= inv;
          dp[j] = dot(gt, vb + j * stride, hd);
          pdp += p[j] * dp[j];
        }
        float* dqt = dq + t * stride + h * hd;
        float* dkb = dk + span.begin * stride + h * hd;
        float* dvb = dv + span.begin * stride + h * hd;
        for (int64_t j = 0; j < n; ++j) {
          const float ds = p[j] * (dp[j] - pdp) * scale;
          axpy(ds, kb + j * stride, dqt, hd);
          axpy(ds, qt, dkb + j * stride, hd);
          axpy(p[j], gt, dvb + j * stride, hd);
        }
      }
    }
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
