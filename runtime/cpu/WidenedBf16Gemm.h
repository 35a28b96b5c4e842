#pragma once
// bf16 matrix products where oneDNN has none for the CPU (no AVX-512): the inputs widened to fp32
// (exactly) and multiplied by OpenBLAS, so the contract (exact products, fp32 sums) holds at fp32
// speed.
#include "runtime/cpu/OpenBlasGemm.h"

namespace hrmc::runtime::cpu {

class WidenedBf16Gemm final : public Bf16Gemm {
 public:
  std::string name() const override { return "bf16 widened to fp32, OpenBLAS"; }
  bool native() const override { return false; }
  void linear(const uint16_t* x, const uint16_t* w, GemmResult y, int64_t rows, int64_t in, int64_t out) override;
  void matmul(const uint16_t* a, const uint16_t* b, GemmResult y, int64_t rows, int64_t k, int64_t n) override;
  void outerSum(const uint16_t* a, const uint16_t* b, GemmResult y, int64_t rows, int64_t m, int64_t n) override;

 private:
  OpenBlasGemm fp32_;
};

}  // namespace hrmc::runtime::cpu
