#pragma once
// The text of stdlib/cuda/hrm_device.cuh, built into hrmc: NVRTC and the host emulation compile the
// generated kernels against it, so they need no file beside the binary. MLIR-free.
#include <string>

namespace hrmc::compiler {

inline constexpr const char* kCudaDeviceHeaderName = "hrm_device.cuh";
const std::string& cudaDeviceHeader();

}  // namespace hrmc::compiler
