#pragma once
// The fused CPU backend: each function of the model is compiled for the cpu target on first use (by
// the ProgramCompiler it is given), then run by a ProgramRunner on the CPU device.
#include <map>
#include <memory>

#include "runtime/cpu/CpuDevice.h"
#include "runtime/exec/Backend.h"
#include "runtime/exec/ProgramRunner.h"

namespace hrmc::runtime::cpu {

class CpuBackend : public Backend {
 public:
  explicit CpuBackend(ProgramCompiler compile) : compile_(std::move(compile)) {}
  std::string name() const override { return "cpu"; }
  std::vector<HostTensor<float>> run(const std::string& function, const PackedBatch& batch,
                                     const WeightMap& weights) override;
  std::unique_ptr<Training> bindTraining(const WeightMap& params, const OptimizerState& state,
                                         const AdamAtan2Config& config, Communicator& communicator) override;
  bool nativeBf16() const override;
  void prepare(const std::string& function) override { runner(function); }
  int64_t plannedBytes(const std::string& function, int64_t tokens) override {
    return runner(function).plan(tokens).arenaBytes;
  }
  std::unique_ptr<IncrementalForward> incrementalForward(const WeightMap& weights) override;

  // The runner of one function, compiling it on first use; throws ExecError when compilation fails.
  ProgramRunner& runner(const std::string& function);

 private:
  ProgramCompiler compile_;
  CpuDevice device_;
  std::map<std::string, std::unique_ptr<ProgramRunner>> runners_;
};

// Whether every launch but attention works row by row, so that `forward` can run over new tokens
// with a KvCache; the reason when not.
bool supportsKvCache(const compiler::KernelProgram& program, std::string& why);

}  // namespace hrmc::runtime::cpu
