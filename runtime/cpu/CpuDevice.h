#pragma once
// The CPU as a device: host memory, fused kernels from the program's object code loaded into an ORC
// JIT (split over rows across the thread pool where the kernel allows it), the matrix products through
// OpenBLAS (OpenBlasGemm.h), and the CPU backend's own kernels for the other library launches and for
// the training state, threaded and vectorised.
#include <memory>
#include <vector>

#include "runtime/exec/Device.h"
#include "runtime/exec/Gemm.h"

namespace hrmc::runtime::cpu {

// Keys and values of earlier tokens, per sequence and per attention launch (each recurrent step and
// layer has its own: HRM-TEXT.md §5.2), for running `forward` over new tokens only.
struct KvCache {
  struct Sequence {
    int64_t length = 0, prefix = 0;          // cached positions; the prompt (PrefixLM prefix) length
    std::vector<std::vector<float>> k, v;    // per attention launch: [length, heads · hd]
  };
  std::vector<Sequence> sequences;
  std::vector<int> current;                  // the sequence of each sample of the batch being run
};

class CpuDevice final : public Device {
 public:
  CpuDevice();
  std::string name() const override { return "cpu"; }
  char* allocate(int64_t bytes) override;
  void release(char* data) override;
  void copyToDevice(char* dst, const void* src, int64_t bytes) override;
  void copyToHost(void* dst, const char* src, int64_t bytes) override;
  std::unique_ptr<LoadedKernels> load(const compiler::CompiledProgram& compiled) override;

#define HRMC_LIBRARY_LAUNCH(Kind, name, HrmOp) void launch##Kind(const LaunchArgs& args) override;
#include "compiler/kernels/LibraryLaunches.def"

  void roundToBf16(const float* src, uint16_t* dst, int64_t n) override;
  void zero(float* data, int64_t n) override;
  void accumulate(float* acc, const float* g, float weight, int64_t n) override;
  void adamAtan2(const AdamAtan2Tensors& t, int64_t n, const AdamAtan2Step& step) override;

  // While set, attention launches append their keys and values to `cache` and attend over it.
  void useKvCache(KvCache* cache) { cache_ = cache; }

 private:
  // Each library launch's fp32 kernel. A launch with bf16 operands runs it on exactly widened copies
  // and rounds its bf16 results once when storing them (the precision rule of ReferenceExecutor.cpp);
  // a matrix product of two bf16 operands runs on the bf16 GEMM instead, and runOnBf16Kernel's launches
  // on their own bf16 kernels.
#define HRMC_LIBRARY_LAUNCH(Kind, name, HrmOp) void f32##Kind(const LaunchArgs& args);
#include "compiler/kernels/LibraryLaunches.def"
  void run(const LaunchArgs& args, void (CpuDevice::*f32)(const LaunchArgs&));
  bool runOnBf16Gemm(const LaunchArgs& args);
  // The launches with kernels of their own for bf16 operands: RoPE, the RMSNorm gradient, the losses
  // on bf16 logits, and attention and its gradient on bf16 tiles (AttentionKernels.h) where the CPU
  // has AMX.
  bool runOnBf16Kernel(const LaunchArgs& args);
  // The fp32 copies of a launch's bf16 operands: kept between launches, grown when too small, never
  // cleared (every copy is written before it is read).
  float* scratch(size_t slot, int64_t n);
  struct Scratch {
    std::unique_ptr<float[]> data;
    int64_t size = 0;
  };
  std::vector<Scratch> scratch_;

  std::unique_ptr<Gemm> gemm_;
  std::unique_ptr<Bf16Gemm> bf16Gemm_;
  KvCache* cache_ = nullptr;
};

}  // namespace hrmc::runtime::cpu
