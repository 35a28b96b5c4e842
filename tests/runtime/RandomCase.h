#pragma once
// Random inputs for tests that compare executors: weights for every weight and buffer of a module, and
// packed batches of samples with prefixes and padding.
#include <algorithm>
#include <cmath>
#include <random>

#include "compiler/HrmModule.h"
#include "runtime/batch/PackedBatch.h"
#include "runtime/exec/Types.h"

namespace hrmc::testing {

// Normal random weights for every weight and buffer of the module; stddev 0: 1/sqrt(fan-in) per
// weight (LeCun-like: attention neither flat nor saturated).
inline runtime::WeightMap randomWeights(const compiler::HrmModule& module, std::mt19937& rng, float stddev) {
  runtime::WeightMap weights;
  for (const auto& w : module.weights()) {
    std::normal_distribution<float> normal(0.0f, stddev > 0 ? stddev : 1.0f / std::sqrt(static_cast<float>(w.shape.back())));
    runtime::HostTensor<float> t(w.shape);
    for (float& x : t.data) x = normal(rng);
    weights[w.name] = std::move(t);
  }
  return weights;
}

// Packed samples of random lengths with prefixes, positions restarting per sample, and padding.
inline runtime::PackedBatch randomPackedBatch(std::mt19937& rng, int T, int vocab) {
  runtime::PackedBatch batch;
  int at = 0;
  while (at < T - 8) {
    const int len = 2 + static_cast<int>(rng() % std::min(40, T - at - 1));
    const int prefix = 1 + static_cast<int>(rng() % (len - 1));
    batch.seq.prefixLens.push_back(prefix);
    batch.seq.causalLens.push_back(len - prefix);
    for (int i = 0; i < len; ++i) batch.seq.positions.push_back(i);
    at += len;
  }
  batch.seq.positions.resize(T, 0);
  batch.seq.build();
  for (int t = 0; t < T; ++t) batch.inputs.push_back(static_cast<int32_t>(rng() % vocab));
  batch.labels.assign(T, -100);
  return batch;
}

// The largest error of `got` as a fraction of `want`'s largest magnitude.
inline double relativeToMax(const runtime::HostTensor<float>& got, const runtime::HostTensor<float>& want) {
  double maxRef = 1e-12, maxAbs = 0;
  for (size_t j = 0; j < want.data.size() && j < got.data.size(); ++j) {
    maxRef = std::max(maxRef, std::fabs(double(want.data[j])));
    maxAbs = std::max(maxAbs, std::fabs(double(got.data[j]) - want.data[j]));
  }
  return maxAbs / maxRef;
}

// Labels every response token with the next input (the last prefix token predicts the first response token).
inline void labelResponses(runtime::PackedBatch& batch) {
  const int64_t T = batch.seq.tokens();
  for (int64_t t = 0; t + 1 < T; ++t) {
    const int32_t s = batch.seq.sampleOf[t];
    if (s >= 0 && t - batch.seq.starts[s] >= batch.seq.prefixLens[s] - 1 && batch.seq.sampleOf[t + 1] == s)
      batch.labels[t] = batch.inputs[t + 1];
  }
}

}  // namespace hrmc::testing
