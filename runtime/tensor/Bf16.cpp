#include "runtime/tensor/Bf16.h"

namespace hrmc::runtime {

float roundToBf16(float x) { return fromBf16Bits(toBf16Bits(x)); }

__attribute__((target_clones("avx512f", "avx2", "default"))) void roundToBf16Bits(const float* in, uint16_t* out,
                                                                                      int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = toBf16Bits(in[i]);
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void widenBf16(const uint16_t* bits, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = fromBf16Bits(bits[i]);
}

}  // namespace hrmc::runtime
