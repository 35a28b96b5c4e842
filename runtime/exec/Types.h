#pragma once
// The basic types every executor shares: weights by name, and the error an executor throws.
#include <map>
#include <stdexcept>
#include <string>

#include "runtime/tensor/HostTensor.h"

namespace hrmc::runtime {

// Weights and buffers by reference name (HRM-TEXT.md §1.11), stored in fp32.
using WeightMap = std::map<std::string, HostTensor<float>>;

struct ExecError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// The backend asked for cannot run here: no driver, no GPU (the CLI's exit status 4).
struct DeviceUnavailable : ExecError {
  using ExecError::ExecError;
};

}  // namespace hrmc::runtime
