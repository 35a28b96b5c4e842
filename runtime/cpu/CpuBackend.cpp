#include "runtime/cpu/CpuBackend.h"

#include <chrono>
#include <cstdio>
#include <set>

#include "compiler/DebugLevel.h"
#include "runtime/cpu/OneDnnGemm.h"
#include "runtime/exec/DeviceTraining.h"

namespace hrmc::runtime::cpu {

using compiler::Launch;
using compiler::LaunchKind;

bool CpuBackend::nativeBf16() const { return oneDnnBf16Native(); }

ProgramRunner& CpuBackend::runner(const std::string& function) {
  auto& slot = runners_[function];
  if (slot) return *slot;
  std::string error;
  const auto start = std::chrono::steady_clock::now();
  const compiler::CompiledProgram* compiled = compile_(function, error);
  if (!compiled) {
    runners_.erase(function);
    throw ExecError("cannot compile '" + function + "' for the CPU: " + error);
  }
  slot = std::make_unique<ProgramRunner>(*compiled, device_);
  if (compiler::debugLevel() >= 1) {
    std::set<std::string> kernels;
    for (const Launch& l : compiled->program.launches)
      if (l.kind == LaunchKind::Fused) kernels.insert(l.kernel);
    std::fprintf(stderr,
                 "[hrmc] compiled %s: %zu launches, %zu distinct fused kernels, in %.2f s (partition %.2f, "
                 "kernel stages %.2f, code generation %.2f)%s\n",
                 function.c_str(), compiled->program.launches.size(), kernels.size(),
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                 compiled->timings.partition, compiled->timings.lowering, compiled->timings.codegen,
                 compiled->fromCache ? ", code from the kernel cache"
                 : compiled->cacheMiss.empty() ? "" : (", kernel cache: " + compiled->cacheMiss).c_str());
  }
  return *slot;
}

std::vector<HostTensor<float>> CpuBackend::run(const std::string& function, const PackedBatch& batch,
                                               const WeightMap& weights) {
  ProgramRunner& r = runner(function);
  r.run(batch, viewsOf(weights));  // the CPU device computes in host memory: no copies
  return r.hostResults();
}

std::unique_ptr<Training> CpuBackend::bindTraining(const WeightMap& params, const OptimizerState& state,
                                                   const AdamAtan2Config& config, Communicator& communicator) {
  return std::make_unique<DeviceTraining>(
      device_, [this](const std::string& function) -> ProgramRunner& { return runner(function); }, params, state, config,
      communicator);
}

bool supportsKvCache(const compiler::KernelProgram& program, std::string& why) {
  for (const Launch& l : program.launches) {
    const bool rowWise = l.kind == LaunchKind::Fused ? l.rowParallel
                         : l.kind == LaunchKind::Attention ? l.mask != compiler::MaskKind::Full
                                                           : l.kind == LaunchKind::Linear || l.kind == LaunchKind::MatMul ||
                                                                 l.kind == LaunchKind::Rope;
    if (!rowWise) {
      why = "'" + l.name() + "' (" + l.location + ") does not work row by row";
      return false;
    }
  }
  return true;
}

namespace {

// `forward` over new tokens only: attention launches keep every sequence's keys and values.
class CachedForward : public Backend::IncrementalForward {
 public:
  CachedForward(ProgramRunner& forward, CpuDevice& device, const WeightMap& weights)
      : forward_(forward), device_(device), weights_(viewsOf(weights)) {}
  HostTensor<float> run(const PackedBatch& batch, const std::vector<int>& sequences) override {
    for (int s : sequences)
      if (s >= static_cast<int>(cache_.sequences.size())) cache_.sequences.resize(s + 1);
    cache_.current = sequences;
    device_.useKvCache(&cache_);
    try {
      forward_.run(batch, weights_);
    } catch (...) {
      device_.useKvCache(nullptr);
      throw;
    }
    device_.useKvCache(nullptr);
    const PackedSeq& seq = batch.seq;
    for (int64_t s = 0; s < seq.samples(); ++s)
      cache_.sequences[cache_.current[s]].length += seq.prefixLens[s] + seq.causalLens[s];
    return forward_.hostResult(0);
  }

 private:
  ProgramRunner& forward_;
  CpuDevice& device_;
  WeightViews weights_;
  KvCache cache_;
};

}  // namespace

std::unique_ptr<Backend::IncrementalForward> CpuBackend::incrementalForward(const WeightMap& weights) {
  ProgramRunner& forward = runner("forward");
  std::string why;
  if (!supportsKvCache(forward.program(), why)) return nullptr;
  return std::make_unique<CachedForward>(forward, device_, weights);
}

}  // namespace hrmc::runtime::cpu
