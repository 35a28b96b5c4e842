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
uint16_t toBf16Bits(float x);
inline float fromBf16Bits(uint16_t bits) { return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16); }
// out[i] = toBf16Bits(in[i]) and out[i] = fromBf16Bits(bits[i]) for n elements.
void roundToBf16Bits(const float* in, uint16_t* out, int64_t n);
void widenBf16(const uint16_t* bits, float* out, int64_t n);

}  // namespace hrmc::runtime
