#pragma once
// What a program runner (ProgramRunner.h) needs from a device: memory, copies, the program's fused
// kernels, one entry per library launch (from the one list, LibraryLaunches.def), and the few
// element-wise kernels of device-resident training (DeviceTraining.h). The CPU is one device
// (runtime/cpu/CpuDevice.h); the CUDA device implements the same entries.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "compiler/kernels/KernelProgram.h"
#include "runtime/batch/PackedBatch.h"
#include "runtime/exec/AdamAtan2.h"

namespace hrmc::runtime {

// A value of a running program: device memory and its concrete shape (T filled in).
struct DeviceTensor {
  char* data = nullptr;
  std::vector<int64_t> shape;
  compiler::ElementType type = compiler::ElementType::F32;
  float* f32() const { return reinterpret_cast<float*>(data); }
  const int32_t* i32() const { return reinterpret_cast<const int32_t*>(data); }
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  int64_t bytes() const { return numel() * (type == compiler::ElementType::BF16 ? 2 : 4); }
};

// One launch of a program, its operands bound.
struct LaunchArgs {
  const compiler::Launch& launch;
  size_t index;                     // in the program's launch list
  int ordinal;                      // among the program's launches of the same kind (attention: the step and layer)
  std::vector<DeviceTensor> in, out;
  const PackedSeq& seq;             // the batch's sequence layout (host memory)
};

// A program's fused kernels as one device loaded them.
class LoadedKernels {
 public:
  virtual ~LoadedKernels() = default;
  // Runs the fused launch `args.launch` (its kernel was found when the program was loaded).
  virtual void launch(const LaunchArgs& args) = 0;
};

class Device {
 public:
  virtual ~Device() = default;
  virtual std::string name() const = 0;

  // Memory, aligned to kArenaAlignment (MemoryPlan.h); allocate throws ExecError when it cannot.
  virtual char* allocate(int64_t bytes) = 0;
  virtual void release(char* data) = 0;
  virtual void copyToDevice(char* dst, const void* src, int64_t bytes) = 0;
  virtual void copyToHost(void* dst, const char* src, int64_t bytes) = 0;

  // Loads a program compiled for this device's target; throws ExecError when its binary does not
  // load or lacks one of its fused kernels.
  virtual std::unique_ptr<LoadedKernels> load(const compiler::CompiledProgram& compiled) = 0;

  // The library launches: `launchLinear(args)`, `launchAttention(args)`, ...
#define HRMC_LIBRARY_LAUNCH(Kind, name, HrmOp) virtual void launch##Kind(const LaunchArgs& args) = 0;
#include "compiler/kernels/LibraryLaunches.def"

  // dst = bf16(src), round to nearest even (an fp32 weight bound to a bf16 argument).
  virtual void roundToBf16(const float* src, uint16_t* dst, int64_t n) = 0;
  // Training state: acc = 0; acc += weight · g; one AdamATan2 + EMA update (AdamAtan2.h).
  virtual void zero(float* data, int64_t n) = 0;
  virtual void accumulate(float* acc, const float* g, float weight, int64_t n) = 0;
  virtual void adamAtan2(const AdamAtan2Tensors& t, int64_t n, const AdamAtan2Step& step) = 0;
};

// Device memory released when it goes out of scope.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(Device& device, int64_t bytes) : device_(&device), data_(device.allocate(bytes)), bytes_(bytes) {}
  DeviceBuffer(DeviceBuffer&& o) noexcept { *this = std::move(o); }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    std::swap(device_, o.device_);
    std::swap(data_, o.data_);
    std::swap(bytes_, o.bytes_);
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() {
    if (data_) device_->release(data_);
  }
  char* data() const { return data_; }
  float* f32() const { return reinterpret_cast<float*>(data_); }
  int64_t bytes() const { return bytes_; }

 private:
  Device* device_ = nullptr;
  char* data_ = nullptr;
  int64_t bytes_ = 0;
};

}  // namespace hrmc::runtime
