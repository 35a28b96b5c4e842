#include "runtime/tensor/Bf16.h"

#include <cstring>

namespace hrmc::runtime {

namespace {

// Branch-free, so that the array loops vectorise: add 0x7FFF plus the lowest kept bit (ties to
// even) and keep the upper half; a NaN keeps its sign and upper payload bits and is made quiet.
inline uint16_t bf16Bits(uint32_t bits) {
  const uint16_t rounded = static_cast<uint16_t>((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
  const uint16_t quietNan = static_cast<uint16_t>((bits >> 16) | 0x0040u);
  return (bits & 0x7FFFFFFFu) > 0x7F800000u ? quietNan : rounded;
}

}  // namespace

uint16_t toBf16Bits(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return bf16Bits(bits);
}

float roundToBf16(float x) { return fromBf16Bits(toBf16Bits(x)); }

__attribute__((target_clones("avx512f", "avx2", "default"))) void roundToBf16Bits(const float* in, uint16_t* out,
                                                                                      int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, in + i, sizeof bits);
    out[i] = bf16Bits(bits);
  }
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void widenBf16(const uint16_t* bits, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t wide = static_cast<uint32_t>(bits[i]) << 16;
    std::memcpy(out + i, &wide, sizeof wide);
  }
}

}  // namespace hrmc::runtime
