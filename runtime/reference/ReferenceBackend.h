#pragma once
// The reference executor behind the Backend interface (`--backend reference`): op-by-op loops.
#include "runtime/exec/Backend.h"
#include "runtime/reference/ReferenceExecutor.h"

namespace hrmc::runtime {

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

}  // namespace hrmc::runtime
