#pragma once
// What the trainer, generator and evaluator need from an executor: run a compiled function of the
// model on a packed batch. The trainer does not care which backend runs it.
#include <memory>
#include <string>
#include <vector>

#include "compiler/HrmModule.h"
#include "runtime/reference/ReferenceExecutor.h"

namespace hrmc::runtime {

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // forward → {logits}; loss → {loss, accuracy, exact}; train_step_kK → those + gradients.
  virtual std::vector<HostTensor<float>> run(const std::string& function, const PackedBatch& batch,
                                             const WeightMap& weights) = 0;
  // Gets a function ready to run (the CPU backend compiles it); run() does this on first use.
  virtual void prepare(const std::string& function) { (void)function; }
};

class ReferenceBackend : public Backend {
 public:
  explicit ReferenceBackend(const compiler::HrmModule& module) : exec_(module) {}
  std::string name() const override { return "reference"; }
  std::vector<HostTensor<float>> run(const std::string& function, const PackedBatch& batch,
                                     const WeightMap& weights) override {
    return exec_.run(function, batch, weights).results;
  }

 private:
  ReferenceExecutor<float> exec_;
};

// The backends by name: "cpu" (the fused, JIT-compiled CPU backend; the default) or "reference".
inline const char* const kBackendNames[] = {"cpu", "reference"};
// Throws ExecError for an unknown name.
std::unique_ptr<Backend> makeBackend(const std::string& name, compiler::HrmModule& module);

}  // namespace hrmc::runtime
