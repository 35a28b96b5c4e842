#pragma once
// Runs a compiled program on a device, the part every device shares: binds the arguments (the batch's
// tokens and labels copied in, weights bound by name, fp32 weights rounded for bf16 arguments), checks
// token ids before any launch, places every intermediate value at its planned offset in one arena,
// launches the program's kernels in order (HRMC_DEBUG=1: a line per launch) and leaves the results in
// device memory.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "compiler/kernels/KernelProgram.h"
#include "runtime/batch/PackedBatch.h"
#include "runtime/exec/Device.h"
#include "runtime/exec/MemoryPlan.h"
#include "runtime/exec/Types.h"

namespace hrmc::runtime {

// A weight in device memory, fp32, and its shape; bf16, when not null, its bf16 copy kept current by
// the optimizer (bf16 programs read it; without one they round the fp32 weight at every run).
struct WeightView {
  const float* data = nullptr;
  const std::vector<int64_t>* shape = nullptr;
  const uint16_t* bf16 = nullptr;
};
using WeightViews = std::map<std::string, WeightView>;
// Views of host weights, for a device whose memory is the host's (the CPU).
WeightViews viewsOf(const WeightMap& weights);

class ProgramRunner {
 public:
  // Loads the program's kernels on `device`; throws ExecError when they do not load. `compiled` and
  // `device` outlive the runner.
  ProgramRunner(const compiler::CompiledProgram& compiled, Device& device);
  const compiler::KernelProgram& program() const { return program_; }

  // Runs the program on `batch` (throws BatchError or ExecError); the results stay valid until the next run.
  void run(const PackedBatch& batch, const WeightViews& weights);
  // Result i of the last run, in device memory.
  const DeviceTensor& result(size_t i) const { return results_.at(i); }
  size_t resultCount() const { return results_.size(); }
  // Result i copied to the host (i32 results as floats).
  HostTensor<float> hostResult(size_t i) const;
  std::vector<HostTensor<float>> hostResults() const;

  const MemoryPlan& plan(int64_t tokens);
  // The most arena bytes in use at once during the last run, as measured while launching.
  int64_t measuredPeakBytes() const { return measuredPeak_; }

 private:
  const compiler::KernelProgram& program_;
  Device& device_;
  std::unique_ptr<LoadedKernels> kernels_;
  MemoryPlan plan_;
  DeviceBuffer arena_, batchBuffer_;
  std::vector<DeviceBuffer> bf16Arguments_;
  std::vector<DeviceTensor> results_;
  int64_t measuredPeak_ = 0;
  int debug_ = 0;  // HRMC_DEBUG
};

}  // namespace hrmc::runtime
