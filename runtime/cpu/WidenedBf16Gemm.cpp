#include "runtime/cpu/WidenedBf16Gemm.h"

#include <vector>

#include "runtime/tensor/HostTensor.h"

namespace hrmc::runtime::cpu {

namespace {
std::vector<float> widen(const uint16_t* bits, int64_t n) {
  std::vector<float> out(n);
  widenBf16(bits, out.data(), n);
  return out;
}
}  // namespace

void WidenedBf16Gemm::linear(const uint16_t* x, const uint16_t* w, float* y, int64_t rows, int64_t in, int64_t out) {
  fp32_.linear(widen(x, rows * in).data(), widen(w, out * in).data(), y, rows, in, out);
}

void WidenedBf16Gemm::matmul(const uint16_t* a, const uint16_t* b, float* y, int64_t rows, int64_t k, int64_t n) {
  fp32_.matmul(widen(a, rows * k).data(), widen(b, k * n).data(), y, rows, k, n);
}

void WidenedBf16Gemm::outerSum(const uint16_t* a, const uint16_t* b, float* y, int64_t rows, int64_t m, int64_t n) {
  fp32_.outerSum(widen(a, rows * m).data(), widen(b, rows * n).data(), y, rows, m, n);
}

}  // namespace hrmc::runtime::cpu
