#pragma once
// The matrix products of the library launches (linear, matmul, outer_sum) behind one interface, so
// that each device picks the library that is best for it: OpenBLAS on the CPU in fp32
// (runtime/cpu/OpenBlasGemm.h); oneDNN (bf16 on CPU) and cuBLASLt (CUDA) come with their issues.
// Row-major, dense, fp32.
#include <cstdint>
#include <string>

namespace hrmc::runtime {

class Gemm {
 public:
  virtual ~Gemm() = default;
  virtual std::string name() const = 0;
  // y[r, o] = Σ_i x[r, i] w[o, i]
  virtual void linear(const float* x, const float* w, float* y, int64_t rows, int64_t in, int64_t out) = 0;
  // y[r, n] = Σ_k a[r, k] b[k, n]
  virtual void matmul(const float* a, const float* b, float* y, int64_t rows, int64_t k, int64_t n) = 0;
  // y[m, n] = Σ_r a[r, m] b[r, n] (a weight gradient: the sum over the packed tokens)
  virtual void outerSum(const float* a, const float* b, float* y, int64_t rows, int64_t m, int64_t n) = 0;
};

}  // namespace hrmc::runtime
