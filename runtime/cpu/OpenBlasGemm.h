#pragma once
// The CPU's matrix products: OpenBLAS in fp32, split over the thread pool with single-threaded OpenBLAS
// in each part (OpenBLAS's own threads spin between calls and would take cores from the fused and
// attention kernels, so making one sets OpenBLAS single-threaded for the process).
#include "runtime/exec/Gemm.h"

namespace hrmc::runtime::cpu {

class OpenBlasGemm final : public Gemm {
 public:
  OpenBlasGemm();
  std::string name() const override { return "openblas"; }
  void linear(const float* x, const float* w, float* y, int64_t rows, int64_t in, int64_t out) override;
  void matmul(const float* a, const float* b, float* y, int64_t rows, int64_t k, int64_t n) override;
  void outerSum(const float* a, const float* b, float* y, int64_t rows, int64_t m, int64_t n) override;
};

}  // namespace hrmc::runtime::cpu
