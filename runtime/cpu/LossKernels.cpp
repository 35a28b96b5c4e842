#include "runtime/cpu/LossKernels.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "runtime/cpu/ThreadPool.h"
#include "runtime/exec/Labels.h"
#include "runtime/tensor/Bf16.h"

namespace hrmc::runtime::cpu {

namespace {

template <typename Rows>
void labelRows(const int32_t* labels, int64_t T, int64_t V, Rows rows) {
  checkLabels(labels, T, V);
  ThreadPool::instance().parallelFor(T, 64, rows);
}

template <typename L>
float rowMax(const L* row, int64_t V) {
  float m = loadValue(row[0]);
#pragma omp simd reduction(max : m)
  for (int64_t j = 1; j < V; ++j) m = std::max(m, loadValue(row[j]));
  return m;
}

}  // namespace

template <typename L>
void crossEntropy(const L* logits, const int32_t* labels, float* ce, int64_t T, int64_t V) {
  labelRows(labels, T, V, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      if (labels[t] == kIgnoreLabel) {
        ce[t] = 0;
        continue;
      }
      const L* row = logits + t * V;
      const float m = rowMax(row, V);
      float sum = 0;
#pragma omp simd reduction(+ : sum)
      for (int64_t j = 0; j < V; ++j) sum += std::exp(loadValue(row[j]) - m);
      ce[t] = m + std::log(sum) - loadValue(row[labels[t]]);
    }
  });
}

template <typename L>
void crossEntropyGrad(const L* logits, const int32_t* labels, const float* g, L* dlogits, int64_t T, int64_t V) {
  labelRows(labels, T, V, [&](int64_t t0, int64_t t1) {
    std::vector<float> e(V);  // a row's exp(logit − max)
    for (int64_t t = t0; t < t1; ++t) {
      L* out = dlogits + t * V;
      if (labels[t] == kIgnoreLabel) {
        std::fill_n(out, V, L{0});
        continue;
      }
      const L* row = logits + t * V;
      const float m = rowMax(row, V);
      float sum = 0;
#pragma omp simd reduction(+ : sum)
      for (int64_t j = 0; j < V; ++j) sum += (e[j] = std::exp(loadValue(row[j]) - m));
      const float scale = g[t] / sum;
#pragma omp simd
      for (int64_t j = 0; j < V; ++j) e[j] *= scale;
      e[labels[t]] -= g[t];
#pragma omp simd
      for (int64_t j = 0; j < V; ++j) storeValue(out[j], e[j]);
    }
  });
}

template <typename L>
void argmaxMatch(const L* logits, const int32_t* labels, float* match, int64_t T, int64_t V) {
  labelRows(labels, T, V, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const L* row = logits + t * V;
      const float m = rowMax(row, V);
      int64_t first = 0;
      while (loadValue(row[first]) != m) ++first;
      match[t] = labels[t] != kIgnoreLabel && first == labels[t] ? 1.0f : 0.0f;
    }
  });
}

#define HRMC_LOSS_KERNELS(L)                                                                         \
  template void crossEntropy(const L*, const int32_t*, float*, int64_t, int64_t);                   \
  template void crossEntropyGrad(const L*, const int32_t*, const float*, L*, int64_t, int64_t);     \
  template void argmaxMatch(const L*, const int32_t*, float*, int64_t, int64_t);
HRMC_LOSS_KERNELS(float)
HRMC_LOSS_KERNELS(uint16_t)
#undef HRMC_LOSS_KERNELS

float labelMean(const float* values, const int32_t* labels, int64_t T) {
  double sum = 0;
  int64_t n = 0;
  for (int64_t t = 0; t < T; ++t)
    if (labels[t] != kIgnoreLabel) {
      sum += values[t];
      ++n;
    }
  return n ? static_cast<float>(sum / static_cast<double>(n)) : 0.0f;
}

void labelMeanGrad(const int32_t* labels, float g, float* out, int64_t T) {
  const int64_t n = std::count_if(labels, labels + T, [](int32_t l) { return l != kIgnoreLabel; });
  for (int64_t t = 0; t < T; ++t) out[t] = labels[t] != kIgnoreLabel ? g / static_cast<float>(n) : 0.0f;
}

float exactMatch(const float* match, const int32_t* labels, const PackedSeq& seq) {
  std::vector<char> seen(seq.samples(), 0), allRight(seq.samples(), 1);
  for (int64_t t = 0; t < seq.tokens(); ++t) {
    const int32_t s = seq.sampleOf[t];
    if (s < 0 || labels[t] == kIgnoreLabel) continue;
    seen[s] = 1;
    allRight[s] &= match[t] != 0.0f;
  }
  int64_t counted = 0, exact = 0;
  for (int64_t s = 0; s < seq.samples(); ++s) {
    counted += seen[s];
    exact += seen[s] && allRight[s];
  }
  return counted ? static_cast<float>(exact) / static_cast<float>(counted) : 0.0f;
}

void embeddingGrad(const int32_t* tokens, const float* g, float* table, int64_t T, int64_t d, int64_t vocab) {
  // Each thread owns a band of columns of every row, so no two threads add into the same element.
  ThreadPool::instance().parallelFor(d, 16, [&](int64_t c0, int64_t c1) {
    for (int64_t v = 0; v < vocab; ++v) std::fill(table + v * d + c0, table + v * d + c1, 0.0f);
    for (int64_t t = 0; t < T; ++t) {
      float* dst = table + static_cast<int64_t>(tokens[t]) * d;
      const float* src = g + t * d;
#pragma omp simd
      for (int64_t j = c0; j < c1; ++j) dst[j] += src[j];
    }
  });
}

}  // namespace hrmc::runtime::cpu
