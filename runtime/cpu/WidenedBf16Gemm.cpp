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
// Runs `product` into y, or into fp32 sums that are then rounded into a bf16 y.
template <typename Product>
void into(GemmResult y, int64_t n, Product product) {
  if (!y.bf16) return product(static_cast<float*>(y.data));
  std::vector<float> sums(n);
  product(sums.data());
  roundToBf16Bits(sums.data(), static_cast<uint16_t*>(y.data), n);
}
}  // namespace

void WidenedBf16Gemm::linear(const uint16_t* x, const uint16_t* w, GemmResult y, int64_t rows, int64_t in, int64_t out) {
  into(y, rows * out, [&](float* sums) { fp32_.linear(widen(x, rows * in).data(), widen(w, out * in).data(), sums, rows, in, out); });
}

void WidenedBf16Gemm::matmul(const uint16_t* a, const uint16_t* b, GemmResult y, int64_t rows, int64_t k, int64_t n) {
  into(y, rows * n, [&](float* sums) { fp32_.matmul(widen(a, rows * k).data(), widen(b, k * n).data(), sums, rows, k, n); });
}

void WidenedBf16Gemm::outerSum(const uint16_t* a, const uint16_t* b, GemmResult y, int64_t rows, int64_t m, int64_t n) {
  into(y, m * n, [&](float* sums) { fp32_.outerSum(widen(a, rows * m).data(), widen(b, rows * n).data(), sums, rows, m, n); });
}

}  // namespace hrmc::runtime::cpu
