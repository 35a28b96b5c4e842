#pragma once
// The CPU's bf16 matrix products: oneDNN matmul primitives (bf16 inputs, fp32 accumulation and output)
// on AMX or AVX512-BF16 where the CPU has them, emulated by oneDNN elsewhere. Split over hrmc's thread
// pool with one oneDNN thread per part, as OpenBlasGemm is (Debian's oneDNN runs on OpenMP, whose own
// threads would compete with the pool's); primitives are created once per shape and kept.
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "runtime/exec/Gemm.h"

namespace hrmc::runtime::cpu {

class OneDnnGemm final : public Bf16Gemm {
 public:
  OneDnnGemm();
  ~OneDnnGemm() override;
  std::string name() const override;
  bool native() const override;
  void linear(const uint16_t* x, const uint16_t* w, GemmResult y, int64_t rows, int64_t in, int64_t out) override;
  void matmul(const uint16_t* a, const uint16_t* b, GemmResult y, int64_t rows, int64_t k, int64_t n) override;
  void outerSum(const uint16_t* a, const uint16_t* b, GemmResult y, int64_t rows, int64_t m, int64_t n) override;

 private:
  struct Impl;
  // y (m × n, row stride ldy) = a (m × k, strides sa) · b (k × n, strides sb); throws ExecError.
  void multiply(const uint16_t* a, const std::vector<int64_t>& sa, const uint16_t* b, const std::vector<int64_t>& sb,
                GemmResult y, int64_t ldy, int64_t m, int64_t k, int64_t n);
  std::unique_ptr<Impl> impl_;
};

// Whether oneDNN multiplies bf16 natively on this CPU (AMX-BF16 or AVX512-BF16; ONEDNN_MAX_CPU_ISA
// can lower what it uses).
bool oneDnnBf16Native();
// oneDNN's bf16 products when it has them for this CPU, else WidenedBf16Gemm; `why` says why not.
std::unique_ptr<Bf16Gemm> makeBf16Gemm(std::string* why = nullptr);

}  // namespace hrmc::runtime::cpu
