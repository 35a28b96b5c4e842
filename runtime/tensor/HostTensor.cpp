#include "runtime/tensor/HostTensor.h"

#include <cmath>
#include <cstring>

namespace hrmc::runtime {

std::string shapeString(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

float roundToBf16(float x) {
  if (std::isnan(x)) return x;
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  const uint32_t lsb = (bits >> 16) & 1u;
  bits += 0x7FFFu + lsb;
  bits &= 0xFFFF0000u;
  float out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}

uint16_t toBf16Bits(float x) {
  const float r = roundToBf16(x);
  uint32_t bits;
  std::memcpy(&bits, &r, sizeof bits);
  return static_cast<uint16_t>(bits >> 16);
}

float fromBf16Bits(uint16_t bits) {
  const uint32_t wide = static_cast<uint32_t>(bits) << 16;
  float out;
  std::memcpy(&out, &wide, sizeof out);
  return out;
}

void widenBf16(const uint16_t* bits, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = fromBf16Bits(bits[i]);
}

}  // namespace hrmc::runtime
