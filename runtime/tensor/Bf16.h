#pragma once
// bfloat16 conversions: round to nearest even (a NaN stays a quiet NaN of its sign), and the exact
// widening back. The array forms are vectorised (AVX-512 or AVX2 where the CPU has them, chosen at
// run time) and are what every executor uses, so that all of them round identically.
#include <bit>
#include <cstdint>

namespace hrmc::runtime {

// Rounds to the nearest bfloat16, returned widened to float.
float roundToBf16(float x);
// The same rounding as a bfloat16's 16 bits, and those bits widened back to float (exact).
// Branch-free, so that loops around it vectorise: add 0x7FFF plus the lowest kept bit (ties to even)
// and keep the upper half; a NaN keeps its sign and upper payload bits and is made quiet.
inline uint16_t toBf16Bits(float x) {
  const uint32_t bits = std::bit_cast<uint32_t>(x);
  const uint16_t rounded = static_cast<uint16_t>((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
  const uint16_t quietNan = static_cast<uint16_t>((bits >> 16) | 0x0040u);
  return (bits & 0x7FFFFFFFu) > 0x7F800000u ? quietNan : rounded;
}
inline float fromBf16Bits(uint16_t bits) { return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16); }
// Element access for kernels written once for fp32 and bf16 bits: loaded as fp32, stored rounded once.
inline float loadValue(float x) { return x; }
inline float loadValue(uint16_t bits) { return fromBf16Bits(bits); }
inline void storeValue(float& y, float v) { y = v; }
inline void storeValue(uint16_t& y, float v) { y = toBf16Bits(v); }

// out[i] = toBf16Bits(in[i]) and out[i] = fromBf16Bits(bits[i]) for n elements.
void roundToBf16Bits(const float* in, uint16_t* out, int64_t n);
void widenBf16(const uint16_t* bits, float* out, int64_t n);

}  // namespace hrmc::runtime
