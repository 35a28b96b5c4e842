#pragma once
// The CUDA driver (libcuda.so.1), loaded at run time so that hrmc runs where there is none: entry
// points resolved through cuGetProcAddress at an explicit API version (CUDA 13's cuda.h maps plain
// names such as cuCtxCreate to versioned ones, so plain dlsym names are never used). MLIR-free.
#include <string>
#include <vector>

namespace hrmc::runtime::cuda {

struct GpuInfo {
  int ordinal = 0;
  std::string name;
  int major = 0, minor = 0;  // compute capability
  int multiprocessors = 0;
  std::string arch() const { return "sm_" + std::to_string(major * 10 + minor); }
};

class Driver {
 public:
  // The driver, initialised once; null with `error` saying what is missing (the library, or a GPU)
  // and what to do.
  static const Driver* get(std::string& error);

  int version() const { return version_; }  // e.g. 13000
  std::string versionText() const { return std::to_string(version_ / 1000) + "." + std::to_string(version_ % 1000 / 10); }
  const std::vector<GpuInfo>& gpus() const { return gpus_; }

 private:
  Driver() = default;
  int version_ = 0;
  std::vector<GpuInfo> gpus_;
};

}  // namespace hrmc::runtime::cuda
