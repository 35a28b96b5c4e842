#pragma once
// The CPU backend's own library kernels, where the reference loops are too slow: the matrix products,
// RoPE from a per-position table, the row-parallel RMSNorm gradient. Multi-threaded. Attention and the losses have their
// own files (AttentionKernels.h, LossKernels.h).
#include <cstdint>
#include <vector>

#include "compiler/kernels/KernelProgram.h"
#include "runtime/batch/PackedBatch.h"

namespace hrmc::runtime::cpu {

// The matrix products, split over the thread pool with single-threaded OpenBLAS in each part (OpenBLAS's
// own threads spin between calls and would take cores from the fused and attention kernels).
// y[r, o] = Σ_i x[r, i] w[o, i]
void linear(const float* x, const float* w, float* y, int64_t rows, int64_t in, int64_t out);
// y[r, n] = Σ_k a[r, k] b[k, n]
void matmul(const float* a, const float* b, float* y, int64_t rows, int64_t k, int64_t n);
// y[m, n] = Σ_r a[r, m] b[r, n]
void outerSum(const float* a, const float* b, float* y, int64_t rows, int64_t m, int64_t n);
// Makes OpenBLAS single-threaded for this process (the CPU backend threads around it).
void useSingleThreadedBlas();

// Rotate-half RoPE of [T, heads, hd] (inverse: the transpose), bit-identical to ref::rope<float>.
void rope(const float* x, float* y, const PackedSeq& seq, int64_t heads, int64_t hd, double theta, bool inverse);
// dx of y = x / sqrt(mean(x²) + eps), rows split over the threads.
void rmsNormGrad(const float* x, const float* g, float* dx, int64_t rows, int64_t d, double eps);
// y (shape `to`, zeroed here) = x (shape `from`) summed over the dimensions it was broadcast along.
void unbroadcast(const float* x, const std::vector<int64_t>& from, float* y, const std::vector<int64_t>& to);
// y = g scattered to the first maximum of x along `axis` (y zeroed here).
void maxGrad(const float* x, const float* g, float* y, const std::vector<int64_t>& shape, int64_t axis);

}  // namespace hrmc::runtime::cpu
