#pragma once
// The reference executor behind the Backend interface (`--backend reference`): op-by-op loops.
#include "runtime/exec/Backend.h"
#include "runtime/reference/ReferenceExecutor.h"
#include "runtime/reference/ReferenceTraining.h"

namespace hrmc::runtime {

class ReferenceBackend : public Backend {
 public:
  explicit ReferenceBackend(const compiler::HrmModule& module) : exec_(module) {}
  std::string name() const override { return "reference"; }
  std::vector<HostTensor<float>> run(const std::string& function, const PackedBatch& batch,
                                     const WeightMap& weights) override {
    return exec_.run(function, batch, weights).results;
  }
  std::unique_ptr<Training> bindTraining(const WeightMap& params, const OptimizerState& state,
                                         const AdamAtan2Config& config, Communicator& communicator) override {
    return std::make_unique<ReferenceTraining>(
        [this](const std::string& function, const PackedBatch& batch, const WeightMap& weights) {
          return exec_.run(function, batch, weights).results;
        },
        params, state, config, communicator);
  }

 private:
  ReferenceExecutor<float> exec_;
};

}  // namespace hrmc::runtime
