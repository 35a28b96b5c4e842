#pragma once
// The CPU backend's own library kernels, where the reference loops are too slow: RoPE from a
// per-position table, the row-parallel RMSNorm gradient. Multi-threaded. Attention, the losses and the matrix
// products have their own files (AttentionKernels.h, LossKernels.h, OpenBlasGemm.h).
#include <cstdint>
#include <vector>

#include "compiler/kernels/KernelProgram.h"
#include "runtime/batch/PackedBatch.h"

namespace hrmc::runtime::cpu {

// Rotate-half RoPE of [T, heads, hd] (inverse: the transpose), bit-identical to ref::rope<float>.
// T = float, or uint16_t for bf16 bits (fp32 math, each result rounded once).
template <typename T>
void rope(const T* x, T* y, const PackedSeq& seq, int64_t heads, int64_t hd, double theta, bool inverse);
// dx of y = x / sqrt(mean(x²) + eps), rows split over the threads.
template <typename T>  // float, or uint16_t for bf16 bits
void rmsNormGrad(const T* x, const T* g, T* dx, int64_t rows, int64_t d, double eps);
// y (shape `to`, zeroed here) = x (shape `from`) summed over the dimensions it was broadcast along.
void unbroadcast(const float* x, const std::vector<int64_t>& from, float* y, const std::vector<int64_t>& to);
// y = g scattered to the first maximum of x along `axis` (y zeroed here).
void maxGrad(const float* x, const float* g, float* y, const std::vector<int64_t>& shape, int64_t axis);

}  // namespace hrmc::runtime::cpu
