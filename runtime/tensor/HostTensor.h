#pragma once
// A dense row-major tensor in host memory. The reference executor and the file formats use it.
#include <cstdint>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

namespace hrmc::runtime {

template <typename T>
struct HostTensor {
  std::vector<int64_t> shape;
  std::vector<T> data;

  HostTensor() = default;
  explicit HostTensor(std::vector<int64_t> s, T fill = T()) : shape(std::move(s)), data(numelOf(shape), fill) {}

  static int64_t numelOf(const std::vector<int64_t>& s) {
    return std::accumulate(s.begin(), s.end(), int64_t(1), std::multiplies<int64_t>());
  }
  int64_t numel() const { return static_cast<int64_t>(data.size()); }
  int64_t rank() const { return static_cast<int64_t>(shape.size()); }

  template <typename U>
  HostTensor<U> cast() const {
    HostTensor<U> out;
    out.shape = shape;
    out.data.assign(data.begin(), data.end());
    return out;
  }
};

std::string shapeString(const std::vector<int64_t>& shape);

// Rounds to the nearest bfloat16 (ties to even), returned widened to float.
float roundToBf16(float x);
// The same rounding as a bfloat16's 16 bits, and those bits widened back to float (exact).
uint16_t toBf16Bits(float x);
float fromBf16Bits(uint16_t bits);
// out[i] = fromBf16Bits(bits[i]) for n elements.
void widenBf16(const uint16_t* bits, float* out, int64_t n);

}  // namespace hrmc::runtime
