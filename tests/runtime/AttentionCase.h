#pragma once
// Inputs and error measures for tests of attention kernels against the reference's plain loops.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "runtime/batch/PackedBatch.h"
#include "runtime/tensor/Bf16.h"

namespace hrmc::runtime {

// Samples of the given lengths (prefix about a third of each), one padding slot after each.
inline PackedSeq packedSamples(const std::vector<int>& lengths) {
  PackedSeq seq;
  for (int len : lengths) {
    seq.prefixLens.push_back(std::max(1, len / 3));
    seq.causalLens.push_back(len - std::max(1, len / 3));
    for (int i = 0; i < len; ++i) seq.positions.push_back(i);
    seq.positions.push_back(0);
  }
  seq.build();
  return seq;
}

inline std::vector<float> randomRows(std::mt19937& rng, size_t n, float scale) {
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> x(n);
  for (float& v : x) v = normal(rng);
  return x;
}

inline std::vector<double> toDouble(const std::vector<float>& x) { return {x.begin(), x.end()}; }

inline double worstError(const std::vector<float>& got, const std::vector<double>& want) {
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::abs(got[i] - want[i]) / (1.0 + std::abs(want[i])));
  return worst;
}

// bf16 results against the fp64 reference on the same (rounded) inputs, per element bounded as
// |got − want| ≤ atol + |want|·2⁻⁷: the results' own rounding is 2⁻⁹ relative; the probabilities (and
// backward, the softmax gradient) rounded to bf16 for their products add a few 2⁻⁹ of the largest
// terms, hence the absolute part.
inline double worstExcess(const std::vector<uint16_t>& got, const std::vector<double>& want, double atol) {
  double worst = -1;  // max of |got − want| − (atol + |want|·2⁻⁷): must stay negative
  for (size_t i = 0; i < got.size(); ++i) {
    const double w = want[i], err = std::abs(fromBf16Bits(got[i]) - w);
    worst = std::max(worst, err - (atol + std::abs(w) * 0x1p-7));
  }
  return worst;
}

}  // namespace hrmc::runtime
