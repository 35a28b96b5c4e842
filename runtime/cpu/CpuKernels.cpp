#include "runtime/cpu/CpuKernels.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "runtime/cpu/ThreadPool.h"
#include "runtime/tensor/Bf16.h"

namespace hrmc::runtime::cpu {

template <typename T>
void rope(const T* x, T* y, const PackedSeq& seq, int64_t heads, int64_t hd, double theta, bool inverse) {
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
        const T* xr = x + (t * heads + h) * hd;
        T* yr = y + (t * heads + h) * hd;
#pragma omp simd
        for (int64_t i = 0; i < half; ++i) {
          const float a = loadValue(xr[i]), b = loadValue(xr[i + half]);
          storeValue(yr[i], a * c[i] - b * s[i]);
          storeValue(yr[i + half], b * c[i] + a * s[i]);
        }
      }
    }
  });
}

template void rope(const float*, float*, const PackedSeq&, int64_t, int64_t, double, bool);
template void rope(const uint16_t*, uint16_t*, const PackedSeq&, int64_t, int64_t, double, bool);

template <typename T>
void rmsNormGrad(const T* x, const T* g, T* dx, int64_t rows, int64_t d, double eps) {
  ThreadPool::instance().parallelFor(rows, 256, [&](int64_t first, int64_t last) {
    for (int64_t r = first; r < last; ++r) {
      const T* xr = x + r * d;
      const T* gr = g + r * d;
      float sumsq = 0, dot = 0;  // vector partial sums (the reference adds in order)
#pragma omp simd reduction(+ : sumsq, dot)
      for (int64_t j = 0; j < d; ++j) {
        sumsq += loadValue(xr[j]) * loadValue(xr[j]);
        dot += loadValue(gr[j]) * loadValue(xr[j]);
      }
      const float inv = 1.0f / std::sqrt(sumsq / static_cast<float>(d) + static_cast<float>(eps));
      const float k = inv * inv * inv * dot / static_cast<float>(d);
#pragma omp simd
      for (int64_t j = 0; j < d; ++j) storeValue(dx[r * d + j], inv * loadValue(gr[j]) - k * loadValue(xr[j]));
    }
  });
}

template void rmsNormGrad(const float*, const float*, float*, int64_t, int64_t, double);
template void rmsNormGrad(const uint16_t*, const uint16_t*, uint16_t*, int64_t, int64_t, double);

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
