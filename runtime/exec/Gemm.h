#pragma once
// The matrix products of the library launches (linear, matmul, outer_sum) behind one interface, so
// that each device picks the library that is best for it: OpenBLAS on the CPU in fp32
// (runtime/cpu/OpenBlasGemm.h); oneDNN (bf16 on CPU) and cuBLASLt (CUDA) come with their issues.
// Row-major, dense; fp32 (Gemm) or bf16 inputs with fp32 accumulation and output (Bf16Gemm,
// HRM-TEXT.md §1.12).
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

// Where a bf16 product's result goes: fp32, or bf16 bits rounded once (to nearest even) from the fp32
// sums, as the precision rule says.
struct GemmResult {
  GemmResult(float* y) : data(y) {}  // NOLINT: implicit, so an fp32 result reads as a plain pointer
  GemmResult(uint16_t* y) : data(y), bf16(true) {}  // NOLINT
  // The result from element `offset` on.
  GemmResult at(int64_t offset) const {
    return bf16 ? GemmResult(static_cast<uint16_t*>(data) + offset) : GemmResult(static_cast<float*>(data) + offset);
  }
  void* data;
  bool bf16 = false;
};

// bf16 bits (the upper half of an fp32) in, fp32 or bf16 out: every product is exact in fp32 and
// summed in fp32, so a result differs from the fp32 product of the rounded inputs by summation order only.
class Bf16Gemm {
 public:
  virtual ~Bf16Gemm() = default;
  // The library and the kernel it runs, e.g. "oneDNN brg:avx512_core_bf16".
  virtual std::string name() const = 0;
  // Whether this CPU multiplies bf16 natively (AVX512-BF16 or AMX); otherwise the library emulates it.
  virtual bool native() const = 0;
  virtual void linear(const uint16_t* x, const uint16_t* w, GemmResult y, int64_t rows, int64_t in, int64_t out) = 0;
  virtual void matmul(const uint16_t* a, const uint16_t* b, GemmResult y, int64_t rows, int64_t k, int64_t n) = 0;
  virtual void outerSum(const uint16_t* a, const uint16_t* b, GemmResult y, int64_t rows, int64_t m, int64_t n) = 0;
};

}  // namespace hrmc::runtime
