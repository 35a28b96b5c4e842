#pragma once
// The CUDA target's generated kernels run on the host, for tests on machines without a GPU: the
// bundle's CUDA C (compiler/codegen/cuda/CudaBundle.h) is compiled by the host C++ compiler against the
// host half of hrm_device.cuh (one fiber per CUDA thread, barriers as rounds) and loaded with dlopen;
// each fused launch runs with the grid its launch shape gives for T, and attention, RoPE, the RMSNorm
// gradient, the losses and metrics, the embedding gradient, unbroadcast, the max gradient and the
// optimizer run hrmc's hand-written CUDA kernels (stdlib/cuda/) the same way. Memory, the matrix
// products, bf16 conversions and the gradient accumulation are the CPU device's: this device proves hrmc's own CUDA code, not
// the GPU's libraries.
#include <memory>
#include <string>
#include <vector>

#include "runtime/cpu/CpuDevice.h"
#include "runtime/exec/Device.h"

namespace hrmc::runtime::cuda {

class HostEmulatedDevice final : public Device {
 public:
  // `threadsPerBlock` fibers per block, whatever the launch shape says (kernels are correct for any
  // block size; few fibers keep the emulation quick).
  explicit HostEmulatedDevice(int threadsPerBlock = 8) : threads_(threadsPerBlock) {}
  ~HostEmulatedDevice() override;
  std::string name() const override { return "cuda (host emulation)"; }
  char* allocate(int64_t bytes) override { return cpu_.allocate(bytes); }
  void release(char* data) override { cpu_.release(data); }
  void copyToDevice(char* dst, const void* src, int64_t bytes) override { cpu_.copyToDevice(dst, src, bytes); }
  void copyToHost(void* dst, const char* src, int64_t bytes) override { cpu_.copyToHost(dst, src, bytes); }
  // Compiles the bundle's source for the host ($HRMC_HOST_CXX, default c++); throws ExecError with
  // the compiler's messages when it does not compile.
  std::unique_ptr<LoadedKernels> load(const compiler::CompiledProgram& compiled) override;

  // The launches with CUDA kernels of hrmc's own run them (runOwn), the rest the CPU's.
#define HRMC_LIBRARY_LAUNCH(Kind, name, HrmOp)                          \
  void launch##Kind(const LaunchArgs& args) override {                  \
    if (!runOwn(compiler::LaunchKind::Kind, args)) cpu_.launch##Kind(args); \
  }
#include "compiler/kernels/LibraryLaunches.def"

  void roundToBf16(const float* src, uint16_t* dst, int64_t n) override { cpu_.roundToBf16(src, dst, n); }
  void zero(float* data, int64_t n) override { cpu_.zero(data, n); }
  void accumulate(float* acc, const float* g, float weight, int64_t n) override { cpu_.accumulate(acc, g, weight, n); }
  // The optimizer on the CUDA kernel (stdlib/cuda/hrm_train.cuh).
  void adamAtan2(const AdamAtan2Tensors& t, int64_t n, const AdamAtan2Step& step) override;

 private:
  // Runs the library launches that have CUDA kernels of hrmc's own; false for the others.
  bool runOwn(compiler::LaunchKind kind, const LaunchArgs& args);
  void attention(const LaunchArgs& args);
  void attentionGrad(const LaunchArgs& args);
  bool rowKernel(const LaunchArgs& args);
  bool crossEntropy(const LaunchArgs& args);
  bool embeddingGrad(const LaunchArgs& args);
  bool smallKernel(const LaunchArgs& args);
  // Runs one of hrmc's hand-written kernels (stdlib/cuda/hrm_library.cu, compiled for the host on first use).
  void runLibraryKernel(const std::string& kernel, int64_t blocks, std::vector<void*> args);

  cpu::CpuDevice cpu_;
  int threads_;
  void* libraryLib_ = nullptr;
};

}  // namespace hrmc::runtime::cuda
