#pragma once
// A dense row-major tensor in host memory. The reference executor and the file formats use it.
#include <cstdint>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

#include "runtime/tensor/Bf16.h"

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

}  // namespace hrmc::runtime
