#pragma once
// The fused CPU backend: each function of the model is compiled for the cpu target on first use (by
// the ProgramCompiler it is given), then run by a CpuExecutor.
#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <memory>

#include "compiler/DebugLevel.h"
#include "runtime/cpu/CpuExecutor.h"
#include "runtime/cpu/CpuKernels.h"
#include "runtime/exec/Backend.h"

namespace hrmc::runtime::cpu {

class CpuBackend : public Backend {
 public:
  explicit CpuBackend(ProgramCompiler compile) : compile_(std::move(compile)) { useSingleThreadedBlas(); }
  std::string name() const override { return "cpu"; }
  std::vector<HostTensor<float>> run(const std::string& function, const PackedBatch& batch,
                                     const WeightMap& weights) override {
    return executor(function).run(batch, weights);
  }
  void prepare(const std::string& function) override { executor(function); }
  int64_t plannedBytes(const std::string& function, int64_t tokens) override {
    return executor(function).plan(tokens).arenaBytes;
  }

  std::unique_ptr<IncrementalForward> incrementalForward(const WeightMap& weights) override {
    CpuExecutor& forward = executor("forward");
    std::string why;
    if (!forward.supportsKvCache(why)) return nullptr;
    return std::make_unique<CachedForward>(forward, weights);
  }
  // The executor of one function, compiling it on first use; throws ExecError when compilation fails.
  CpuExecutor& executor(const std::string& function) {
    auto& slot = executors_[function];
    if (!slot) {
      std::string error;
      const auto start = std::chrono::steady_clock::now();
      const compiler::CompiledProgram* compiled = compile_(function, error);
      if (!compiled) throw ExecError("cannot compile '" + function + "' for the CPU: " + error);
      slot = std::make_unique<CpuExecutor>(*compiled);
      if (compiler::debugLevel() >= 1) {
        std::set<std::string> kernels;
        for (const auto& l : compiled->program.launches)
          if (l.kind == compiler::LaunchKind::Fused) kernels.insert(l.kernel);
        std::fprintf(stderr,
                     "[hrmc] compiled %s: %zu launches, %zu distinct fused kernels, in %.2f s (partition %.2f, "
                     "kernel stages %.2f, code generation %.2f)%s\n",
                     function.c_str(), compiled->program.launches.size(), kernels.size(),
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                     compiled->timings.partition, compiled->timings.lowering, compiled->timings.codegen,
                     compiled->fromCache ? ", code from the kernel cache"
                     : compiled->cacheMiss.empty() ? "" : (", kernel cache: " + compiled->cacheMiss).c_str());
      }
    }
    return *slot;
  }

 private:
  class CachedForward : public IncrementalForward {
   public:
    CachedForward(CpuExecutor& forward, const WeightMap& weights) : forward_(forward), weights_(weights) {}
    HostTensor<float> run(const PackedBatch& batch, const std::vector<int>& sequences) override {
      for (int s : sequences)
        if (s >= static_cast<int>(cache_.sequences.size())) cache_.sequences.resize(s + 1);
      cache_.current = sequences;
      return forward_.run(batch, weights_, &cache_).at(0);
    }

   private:
    CpuExecutor& forward_;
    const WeightMap& weights_;
    KvCache cache_;
  };

  ProgramCompiler compile_;
  std::map<std::string, std::unique_ptr<CpuExecutor>> executors_;
};

}  // namespace hrmc::runtime::cpu
