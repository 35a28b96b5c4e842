#pragma once
// The CPU backend's own loss kernels and the other label-reading launches (the reference executor's
// are the oracle they are tested against, so they are not reused here). Labels are checked once
// before the rows are split over the threads, so an error names the position in the whole batch.
#include <cstdint>

#include "runtime/batch/PackedBatch.h"

namespace hrmc::runtime::cpu {

// Logits (and their gradient) are float, or uint16_t for bf16 bits: the math is fp32 either way, a
// bf16 gradient rounded once when stored.
// ce[t] = logsumexp(logits[t]) − logits[t, label[t]], 0 where label == -100.
template <typename L>
void crossEntropy(const L* logits, const int32_t* labels, float* ce, int64_t T, int64_t V);
// dlogits[t] = (softmax(logits[t]) − onehot(label[t])) · g[t] for valid labels, 0 elsewhere.
template <typename L>
void crossEntropyGrad(const L* logits, const int32_t* labels, const float* g, L* dlogits, int64_t T, int64_t V);
// match[t] = 1 where label[t] is valid and the first maximum of logits[t] is at label[t], else 0.
template <typename L>
void argmaxMatch(const L* logits, const int32_t* labels, float* match, int64_t T, int64_t V);
// Σ values over valid labels / #valid (0 when none), summed in double.
float labelMean(const float* values, const int32_t* labels, int64_t T);
// out[t] = g / #valid where label[t] is valid, else 0.
void labelMeanGrad(const int32_t* labels, float g, float* out, int64_t T);
// #samples with ≥ 1 valid label all of whose valid labels match / #such samples (0 when none).
float exactMatch(const float* match, const int32_t* labels, const PackedSeq& seq);
// table = Σ_t onehot(tokens[t]) ⊗ g[t] over [vocab, d], columns split over the threads. The token ids
// were checked before the program ran.
void embeddingGrad(const int32_t* tokens, const float* g, float* table, int64_t T, int64_t d, int64_t vocab);

}  // namespace hrmc::runtime::cpu
