#include "runtime/cpu/AttentionKernels.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

#include <cblas.h>

#include "runtime/cpu/Bf16Tiles.h"
#include "runtime/cpu/ThreadPool.h"
#include "runtime/tensor/Bf16.h"

namespace hrmc::runtime::cpu {

namespace {

using compiler::MaskKind;

// Queries are taken a block at a time: their scores against a block of keys are one small GEMM
// (OpenBLAS runs these at ~80% of its large-GEMM speed from 32 rows up), and so are the products with
// v, k and q. Scratch per thread is O(kQueryBlock · n) for a sample of n tokens, never n × n or T × T.
constexpr int64_t kQueryBlock = 64;
// The forward pass walks the keys in blocks of this many with an online softmax.
constexpr int64_t kKeyBlock = 256;

constexpr float kMinusInf = -std::numeric_limits<float>::infinity();

// exp(x) for x <= 0 within 2 ulp (Cody-Waite reduction + Cephes polynomial), branch-free so that the
// loops around it vectorise; exp(-inf) = 0.
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
  const float e = p * std::bit_cast<float>((ni + 127) << 23);
  return x <= -87.0f ? 0.0f : e;
}

// max(init, x[0..n)). Written with explicit 16-float vectors: GCC keeps a float max reduction scalar
// (a serial chain of vmaxss) unless it may assume no NaNs and no signed zeros, and the scores use -inf.
typedef float V16 __attribute__((vector_size(64)));
__attribute__((always_inline)) inline float maxOf(const float* x, int64_t n, float init) {
  V16 m = init - V16{};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    V16 v;
    std::memcpy(&v, x + i, sizeof v);
    m = m > v ? m : v;
  }
  float r = init;
  for (int c = 0; c < 16; ++c) r = std::max(r, m[c]);
  for (; i < n; ++i) r = std::max(r, x[i]);
  return r;
}

// Sample s occupies slots [begin, begin + length); query t sees keys [begin, keyEnd(t)). keyEnd never
// decreases with t, so the last query of a block sees the most keys.
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
  // keys seen by the sample's i-th query, counted from its first key
  int64_t keysOf(int64_t i, MaskKind mask) const { return keyEnd(begin + i, mask) - begin; }
};

SampleSpan spanOf(const PackedSeq& seq, int64_t s) {
  return {seq.starts[s], seq.prefixLens[s] + seq.causalLens[s], seq.prefixLens[s]};
}

template <typename T>
void zeroPadding(const PackedSeq& seq, int64_t rowElems, std::initializer_list<T*> outs) {
  for (int64_t t = seq.totalSeqlen; t < seq.tokens(); ++t)
    for (T* o : outs) std::fill_n(o + t * rowElems, rowElems, T{0});
  for (int64_t t = 0; t < seq.totalSeqlen; ++t)
    if (seq.sampleOf[t] < 0)
      for (T* o : outs) std::fill_n(o + t * rowElems, rowElems, T{0});
}

// One head of rows with `stride` floats between rows, as OpenBLAS's leading dimension.
struct HeadRows {
  float* base;
  int64_t stride;
  float* row(int64_t i) const { return base + i * stride; }
};

// Scores of the block's queries against keys [j0, j0 + cols): s[r][c] = scale · q_r · k_{j0+c}, row r
// of s at s + r · ld.
void blockScores(HeadRows q, int64_t rows, HeadRows k, int64_t j0, int64_t cols, int64_t hd, float scale, float* s,
                 int64_t ld) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, cols, hd, scale, q.base, q.stride, k.row(j0), k.stride,
              0.0f, s, ld);
}

// Row r of s holds scores for keys j0..j0+cols; keys at or past its limit `seen[r]` are masked.
// Updates the row's running maximum m[r] and sum l[r], rescales its accumulated output acc[r] when the
// maximum grows, and turns the scores into exp(s - m).
__attribute__((target_clones("avx512f", "avx2", "default")))
void onlineSoftmaxBlock(float* s, int64_t ld, int64_t rows, int64_t j0, int64_t cols, const int64_t* seen, float* m,
                        float* l, float* acc, int64_t hd) {
  for (int64_t r = 0; r < rows; ++r) {
    float* sr = s + r * ld;
    const int64_t valid = std::clamp<int64_t>(seen[r] - j0, 0, cols);
    std::fill(sr + valid, sr + cols, kMinusInf);
    if (valid == 0) {
      std::fill_n(sr, cols, 0.0f);
      continue;
    }
    const float blockMax = maxOf(sr, valid, kMinusInf);
    if (blockMax > m[r]) {  // rescale what was accumulated under the old maximum
      const float f = fastExp(m[r] - blockMax);  // 0 on the first block
      l[r] *= f;
#pragma omp simd
      for (int64_t d = 0; d < hd; ++d) acc[r * hd + d] *= f;
      m[r] = blockMax;
    }
    const float mr = m[r];
    float sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int64_t c = 0; c < cols; ++c) {
      sr[c] = fastExp(sr[c] - mr);
      sum += sr[c];
    }
    l[r] += sum;
  }
}

// Row r of s: scores for keys [0, cols), masked at or past seen[r]; replaced by the probabilities.
__attribute__((target_clones("avx512f", "avx2", "default")))
void softmaxRows(float* s, int64_t ld, int64_t rows, int64_t cols, const int64_t* seen) {
  for (int64_t r = 0; r < rows; ++r) {
    float* sr = s + r * ld;
    std::fill(sr + seen[r], sr + cols, kMinusInf);
    const float m = maxOf(sr, seen[r], kMinusInf);
    float sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int64_t c = 0; c < cols; ++c) {
      sr[c] = fastExp(sr[c] - m);
      sum += sr[c];
    }
    const float inv = 1.0f / sum;
#pragma omp simd
    for (int64_t c = 0; c < cols; ++c) sr[c] *= inv;
  }
}

// dp (holding dout · vᵀ) becomes ds = p ∘ (dp − Σ_c p dp) · scale, row by row.
__attribute__((target_clones("avx512f", "avx2", "default")))
void softmaxGradRows(const float* p, float* dp, int64_t ld, int64_t rows, int64_t cols, float scale) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* pr = p + r * ld;
    float* dr = dp + r * ld;
    float pdp = 0;
#pragma omp simd reduction(+ : pdp)
    for (int64_t c = 0; c < cols; ++c) pdp += pr[c] * dr[c];
#pragma omp simd
    for (int64_t c = 0; c < cols; ++c) dr[c] = pr[c] * (dr[c] - pdp) * scale;
  }
}

// s[r][c] *= scale for the block's rows and columns.
__attribute__((target_clones("avx512f", "avx2", "default")))
void scaleRows(float* s, int64_t ld, int64_t rows, int64_t cols, float scale) {
  for (int64_t r = 0; r < rows; ++r)
#pragma omp simd
    for (int64_t c = 0; c < cols; ++c) s[r * ld + c] *= scale;
}

// Runs fn(span, offset of the sample's first row in head h, scratch) for every (sample, head), the
// longest samples first, each thread taking the next item when it is done (attention's cost grows as
// the square of a sample's length, so equal shares of items are not equal shares of work). Each
// thread has its own Scratch.
template <typename Scratch = std::vector<float>, typename F>
void forEachSampleHead(const PackedSeq& seq, int64_t heads, int64_t hd, F&& fn) {
  std::vector<int64_t> order(seq.samples());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return spanOf(seq, a).length > spanOf(seq, b).length; });
  const int64_t items = seq.samples() * heads, stride = heads * hd;
  std::atomic<int64_t> next{0};
  ThreadPool& pool = ThreadPool::instance();
  pool.parallelFor(pool.size(), 1, [&](int64_t, int64_t) {
    Scratch scratch;
    for (int64_t item; (item = next.fetch_add(1)) < items;) {
      const SampleSpan span = spanOf(seq, order[item / heads]);
      fn(span, span.begin * stride + (item % heads) * hd, scratch);
    }
  });
}

}  // namespace

void attention(const float* q, const float* k, const float* v, float* o, const PackedSeq& seq, int64_t heads,
               int64_t hd, MaskKind mask) {
  const int64_t stride = heads * hd;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  zeroPadding<float>(seq, stride, {o});
  forEachSampleHead(seq, heads, hd, [&](const SampleSpan& span, int64_t at, std::vector<float>& scratch) {
    const HeadRows qh{const_cast<float*>(q) + at, stride}, kh{const_cast<float*>(k) + at, stride},
        vh{const_cast<float*>(v) + at, stride}, oh{o + at, stride};
    scratch.resize(kQueryBlock * (kKeyBlock + hd + 2));
    float *s = scratch.data(), *acc = s + kQueryBlock * kKeyBlock, *m = acc + kQueryBlock * hd, *l = m + kQueryBlock;
    int64_t seen[kQueryBlock];
    for (int64_t i0 = 0; i0 < span.length; i0 += kQueryBlock) {
      const int64_t rows = std::min(kQueryBlock, span.length - i0);
      for (int64_t r = 0; r < rows; ++r) seen[r] = span.keysOf(i0 + r, mask);
      std::fill_n(m, rows, kMinusInf);
      std::fill_n(l, rows, 0.0f);
      std::fill_n(acc, rows * hd, 0.0f);
      const HeadRows qb{qh.row(i0), stride};
      for (int64_t j0 = 0; j0 < seen[rows - 1]; j0 += kKeyBlock) {
        const int64_t cols = std::min(kKeyBlock, seen[rows - 1] - j0);
        blockScores(qb, rows, kh, j0, cols, hd, scale, s, kKeyBlock);
        onlineSoftmaxBlock(s, kKeyBlock, rows, j0, cols, seen, m, l, acc, hd);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, hd, cols, 1.0f, s, kKeyBlock, vh.row(j0), stride,
                    1.0f, acc, hd);
      }
      for (int64_t r = 0; r < rows; ++r) {
        const float inv = 1.0f / l[r];
        float* out = oh.row(i0 + r);
        for (int64_t d = 0; d < hd; ++d) out[d] = acc[r * hd + d] * inv;
      }
    }
  });
}

void attentionGrad(const float* q, const float* k, const float* v, const float* dout, float* dq, float* dk, float* dv,
                   const PackedSeq& seq, int64_t heads, int64_t hd, MaskKind mask) {
  const int64_t stride = heads * hd;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  zeroPadding<float>(seq, stride, {dq, dk, dv});
  // A query block's probabilities over all the keys it sees are recomputed, then
  //   dp = dout vᵀ, ds = p ∘ (dp − Σ p dp) · scale, dq = ds k, dk += dsᵀ q, dv += pᵀ dout.
  forEachSampleHead(seq, heads, hd, [&](const SampleSpan& span, int64_t at, std::vector<float>& scratch) {
    auto rowsOf = [&](const float* base) { return HeadRows{const_cast<float*>(base) + at, stride}; };
    const HeadRows qh = rowsOf(q), kh = rowsOf(k), vh = rowsOf(v), gh = rowsOf(dout), dqh = rowsOf(dq), dkh = rowsOf(dk),
                   dvh = rowsOf(dv);
    const int64_t n = span.length;
    for (int64_t j = 0; j < n; ++j) {
      std::fill_n(dkh.row(j), hd, 0.0f);
      std::fill_n(dvh.row(j), hd, 0.0f);
    }
    const int64_t ld = span.keysOf(n - 1, mask);  // the most keys any query sees
    scratch.resize(2 * kQueryBlock * ld);
    float *p = scratch.data(), *ds = p + kQueryBlock * ld;
    int64_t seen[kQueryBlock];
    for (int64_t i0 = 0; i0 < n; i0 += kQueryBlock) {
      const int64_t rows = std::min(kQueryBlock, n - i0);
      for (int64_t r = 0; r < rows; ++r) seen[r] = span.keysOf(i0 + r, mask);
      const int64_t cols = seen[rows - 1];
      const HeadRows qb{qh.row(i0), stride}, gb{gh.row(i0), stride};
      blockScores(qb, rows, kh, 0, cols, hd, scale, p, ld);
      softmaxRows(p, ld, rows, cols, seen);
      blockScores(gb, rows, vh, 0, cols, hd, 1.0f, ds, ld);
      softmaxGradRows(p, ds, ld, rows, cols, scale);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, hd, cols, 1.0f, ds, ld, kh.base, stride, 0.0f,
                  dqh.row(i0), stride);
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, cols, hd, rows, 1.0f, ds, ld, qb.base, stride, 1.0f,
                  dkh.base, stride);
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, cols, hd, rows, 1.0f, p, ld, gb.base, stride, 1.0f,
                  dvh.base, stride);
    }
  });
}

void attentionCached(const float* q, const float* kc, const float* vc, float* o, int64_t first, int64_t rows,
                     int64_t prefix, int64_t heads, int64_t hd) {
  const int64_t stride = heads * hd;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  ThreadPool::instance().parallelFor(rows * heads, 1, [&](int64_t a, int64_t b) {
    std::vector<float> s(first + rows);
    for (int64_t item = a; item < b; ++item) {
      const int64_t i = item / heads, h = item % heads, pos = first + i;
      const int64_t seen = pos < prefix ? prefix : pos + 1;
      const HeadRows qi{const_cast<float*>(q) + i * stride + h * hd, 1};
      const HeadRows kh{const_cast<float*>(kc) + h * hd, stride}, vh{const_cast<float*>(vc) + h * hd, stride};
      cblas_sgemv(CblasRowMajor, CblasNoTrans, seen, hd, scale, kh.base, stride, qi.base, 1, 0.0f, s.data(), 1);
      softmaxRows(s.data(), seen, 1, seen, &seen);
      cblas_sgemv(CblasRowMajor, CblasTrans, seen, hd, 1.0f, vh.base, stride, s.data(), 1, 0.0f, o + i * stride + h * hd,
                  1);
    }
  });
}

// bf16 attention: the same blocks and softmax as above, the block products on bf16 tiles
// (Bf16Tiles.h) with fp32 accumulation. A (sample, head)'s keys and values are packed once into tile
// layouts; probabilities (and, backward, the softmax gradient) are rounded to bf16 for their products.
namespace {

struct Bf16Scratch {
  std::vector<uint16_t> packed;  // the sample-head's packed keys and values, then a block's operands
  std::vector<float> sums;       // scores, accumulators, statistics
};

// Carves consecutive buffers out of a scratch vector sized once for all of them.
template <typename T>
class Carver {
 public:
  Carver(std::vector<T>& v, int64_t total) : v_(v) {
    if (static_cast<int64_t>(v.size()) < total) v.resize(total);
  }
  T* take(int64_t n) {
    T* p = v_.data() + used_;
    used_ += n;
    return p;
  }

 private:
  std::vector<T>& v_;
  int64_t used_ = 0;
};

}  // namespace

void attentionBf16(const uint16_t* q, const uint16_t* k, const uint16_t* v, uint16_t* o, const PackedSeq& seq,
                   int64_t heads, int64_t hd, MaskKind mask, TileIsa isa) {
  const int64_t stride = heads * hd, hdp = roundUp(hd, kTileDepth);
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  zeroPadding<uint16_t>(seq, stride, {o});
  forEachSampleHead<Bf16Scratch>(seq, heads, hd, [&](const SampleSpan& span, int64_t at, Bf16Scratch& scratch) {
    const int64_t n = span.length, np = roundUp(n, kTileDepth);
    Carver<uint16_t> packed(scratch.packed, 2 * hdp * np + kQueryBlock * hdp + kQueryBlock * kKeyBlock);
    uint16_t *kt = packed.take(hdp * np), *vb = packed.take(hdp * np), *qa = packed.take(kQueryBlock * hdp),
             *pa = packed.take(kQueryBlock * kKeyBlock);
    packBTransposed(k + at, stride, n, hd, kt, np, hdp);  // B[d][key] for q·kᵀ
    packB(v + at, stride, n, hd, vb, hd, np);             // B[key][d] for p·v
    Carver<float> sums(scratch.sums, kQueryBlock * (kKeyBlock + hd + 2));
    float *s = sums.take(kQueryBlock * kKeyBlock), *acc = sums.take(kQueryBlock * hd), *m = sums.take(kQueryBlock),
          *l = sums.take(kQueryBlock);
    int64_t seen[kQueryBlock];
    for (int64_t i0 = 0; i0 < n; i0 += kQueryBlock) {
      const int64_t rows = std::min(kQueryBlock, n - i0), mp = roundUp(rows, kTileRows);
      for (int64_t r = 0; r < rows; ++r) seen[r] = span.keysOf(i0 + r, mask);
      std::fill_n(m, rows, kMinusInf);
      std::fill_n(l, rows, 0.0f);
      std::fill_n(acc, mp * hd, 0.0f);
      packA(q + at + i0 * stride, stride, rows, hd, qa, hdp, mp);
      for (int64_t j0 = 0; j0 < seen[rows - 1]; j0 += kKeyBlock) {
        const int64_t cols = std::min(kKeyBlock, seen[rows - 1] - j0);
        tileProduct(isa, qa, hdp, kt + 2 * j0, np, s, kKeyBlock, mp, roundUp(cols, kTileRows), hdp, false);
        scaleRows(s, kKeyBlock, rows, cols, scale);
        onlineSoftmaxBlock(s, kKeyBlock, rows, j0, cols, seen, m, l, acc, hd);
        packA(s, kKeyBlock, rows, cols, pa, kKeyBlock, mp);
        tileProduct(isa, pa, kKeyBlock, vb + j0 * hd, hd, acc, hd, mp, hd, roundUp(cols, kTileDepth), true);
      }
      for (int64_t r = 0; r < rows; ++r) {
        const float inv = 1.0f / l[r];
        for (int64_t d = 0; d < hd; ++d) acc[r * hd + d] *= inv;
        roundToBf16Bits(acc + r * hd, o + at + (i0 + r) * stride, hd);
      }
    }
  });
}

void attentionGradBf16(const uint16_t* q, const uint16_t* k, const uint16_t* v, const uint16_t* dout, uint16_t* dq,
                       uint16_t* dk, uint16_t* dv, const PackedSeq& seq, int64_t heads, int64_t hd, MaskKind mask,
                       TileIsa isa) {
  const int64_t stride = heads * hd, hdp = roundUp(hd, kTileDepth);
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  zeroPadding<uint16_t>(seq, stride, {dq, dk, dv});
  // As attentionGrad: per query block, p and ds over all the keys it sees, then
  //   dq = ds k, dk += dsᵀ q, dv += pᵀ dout, with dk and dv summed in fp32 over the blocks.
  forEachSampleHead<Bf16Scratch>(seq, heads, hd, [&](const SampleSpan& span, int64_t at, Bf16Scratch& scratch) {
    const int64_t n = span.length, np = roundUp(n, kTileDepth);
    const int64_t ld = roundUp(span.keysOf(n - 1, mask), kTileDepth);  // the most keys any query sees, padded
    Carver<uint16_t> packed(scratch.packed, 3 * hdp * np + 2 * kQueryBlock * hdp + 3 * kQueryBlock * ld +
                                                2 * kQueryBlock * hd);
    uint16_t *kt = packed.take(hdp * np), *vt = packed.take(hdp * np), *kb = packed.take(hdp * np),
             *qa = packed.take(kQueryBlock * hdp), *ga = packed.take(kQueryBlock * hdp),
             *dsa = packed.take(kQueryBlock * ld), *dsT = packed.take(kQueryBlock * ld),
             *pT = packed.take(kQueryBlock * ld), *qb = packed.take(kQueryBlock * hd), *gb = packed.take(kQueryBlock * hd);
    packBTransposed(k + at, stride, n, hd, kt, np, hdp);  // for q·kᵀ
    packBTransposed(v + at, stride, n, hd, vt, np, hdp);  // for dout·vᵀ
    packB(k + at, stride, n, hd, kb, hd, np);             // for ds·k
    Carver<float> sums(scratch.sums, 2 * kQueryBlock * ld + kQueryBlock * hd + 2 * np * hd);
    float *p = sums.take(kQueryBlock * ld), *ds = sums.take(kQueryBlock * ld), *dq32 = sums.take(kQueryBlock * hd),
          *dk32 = sums.take(np * hd), *dv32 = sums.take(np * hd);
    std::fill_n(dk32, np * hd, 0.0f);
    std::fill_n(dv32, np * hd, 0.0f);
    int64_t seen[kQueryBlock];
    for (int64_t i0 = 0; i0 < n; i0 += kQueryBlock) {
      const int64_t rows = std::min(kQueryBlock, n - i0), mp = roundUp(rows, kTileRows);
      const int64_t rowsDeep = roundUp(rows, kTileDepth);  // the block's rows as a reduction
      for (int64_t r = 0; r < rows; ++r) seen[r] = span.keysOf(i0 + r, mask);
      const int64_t cols = seen[rows - 1], colTiles = roundUp(cols, kTileRows), colsDeep = roundUp(cols, kTileDepth);
      const uint16_t *qRows = q + at + i0 * stride, *gRows = dout + at + i0 * stride;
      packA(qRows, stride, rows, hd, qa, hdp, mp);
      packA(gRows, stride, rows, hd, ga, hdp, mp);
      tileProduct(isa, qa, hdp, kt, np, p, ld, mp, colTiles, hdp, false);
      scaleRows(p, ld, rows, cols, scale);
      softmaxRows(p, ld, rows, cols, seen);
      tileProduct(isa, ga, hdp, vt, np, ds, ld, mp, colTiles, hdp, false);
      softmaxGradRows(p, ds, ld, rows, cols, scale);
      packA(ds, ld, rows, cols, dsa, ld, mp);
      tileProduct(isa, dsa, ld, kb, hd, dq32, hd, mp, hd, colsDeep, false);
      for (int64_t r = 0; r < rows; ++r) roundToBf16Bits(dq32 + r * hd, dq + at + (i0 + r) * stride, hd);
      packATransposed(ds, ld, rows, cols, dsT, rowsDeep, colTiles);
      packATransposed(p, ld, rows, cols, pT, rowsDeep, colTiles);
      packB(qRows, stride, rows, hd, qb, hd, rowsDeep);
      packB(gRows, stride, rows, hd, gb, hd, rowsDeep);
      tileProduct(isa, dsT, rowsDeep, qb, hd, dk32, hd, colTiles, hd, rowsDeep, true);
      tileProduct(isa, pT, rowsDeep, gb, hd, dv32, hd, colTiles, hd, rowsDeep, true);
    }
    for (int64_t j = 0; j < n; ++j) {
      roundToBf16Bits(dk32 + j * hd, dk + at + j * stride, hd);
      roundToBf16Bits(dv32 + j * hd, dv + at + j * stride, hd);
    }
  });
}

}  // namespace hrmc::runtime::cpu
