#pragma once
// Runs a compiled program on the CPU: fused kernels through their object code loaded into an ORC JIT
// (split over rows across the thread pool where the kernel allows it), library kernels through
// OpenBLAS and the CPU backend's own kernels. Every intermediate value lives at a planned offset in
// one arena.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "compiler/kernels/KernelProgram.h"
#include "runtime/batch/PackedBatch.h"
#include "runtime/cpu/JitModule.h"
#include "runtime/exec/MemoryPlan.h"
#include "runtime/exec/Types.h"

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

class CpuExecutor {
 public:
  // Loads the program's kernels; throws ExecError when its binary does not load or lacks a kernel.
  explicit CpuExecutor(const compiler::CompiledProgram& compiled);
  // The function's results (as the reference executor returns them). Throws ExecError or BatchError.
  std::vector<HostTensor<float>> run(const PackedBatch& batch, const WeightMap& weights, KvCache* cache = nullptr);
  // Whether every launch but attention works row by row, so that `forward` can run over new tokens
  // with a KvCache; the reason when not.
  bool supportsKvCache(std::string& why) const;
  const MemoryPlan& plan(int64_t tokens);
  // The most arena bytes in use at once during the last run, as measured while launching.
  int64_t measuredPeakBytes() const { return measuredPeak_; }

 private:
  const compiler::KernelProgram& program_;
  std::unique_ptr<JitModule> code_;
  std::vector<JitModule::Kernel> kernels_;  // per launch (null for library launches)
  MemoryPlan plan_;
  std::unique_ptr<char, void (*)(void*)> arena_{nullptr, std::free};
  int64_t arenaCapacity_ = 0;
  int64_t measuredPeak_ = 0;
  int debug_ = 0;  // HRMC_DEBUG
};

}  // namespace hrmc::runtime::cpu
