#pragma once
// The reference executor's training state (Training.h), in host maps: the train step's gradients are
// accumulated and AdamATan2 + EMA applied with plain loops, one element at a time. It is the oracle the
// device-resident state of the other backends is tested against. The step runs through a function:
// the reference executor's, or another backend's `run` (hrmc bench times the host-state path so).
#include <cstdint>
#include <functional>

#include "runtime/dist/Communicator.h"
#include "runtime/exec/Training.h"

namespace hrmc::runtime {

// One AdamATan2 + EMA update of n elements (AdamAtan2.h), in order.
void referenceAdamAtan2(const AdamAtan2Tensors& t, int64_t n, const AdamAtan2Step& s);

class ReferenceTraining final : public Training {
 public:
  // Runs `function` on a batch with weights: the results (loss, accuracy, exact, then gradients).
  using RunFunction =
      std::function<std::vector<HostTensor<float>>(const std::string& function, const PackedBatch&, const WeightMap&)>;
  ReferenceTraining(RunFunction run, WeightMap params, OptimizerState state, const AdamAtan2Config& config,
                    Communicator& communicator);
  StepScalars accumulate(const std::string& function, const std::vector<std::string>& gradientNames,
                         const PackedBatch& batch, double weight) override;
  void step(double lr) override;
  WeightMap parameters() const override { return params_; }
  OptimizerState optimizerState() const override { return state_; }
  int64_t residentBytes() const override;

 private:
  RunFunction run_;
  WeightMap params_;
  OptimizerState state_;
  AdamAtan2Config config_;
  Communicator& communicator_;
  std::map<std::string, HostTensor<float>> grads_;  // the parameters that received a gradient since the last step
};

}  // namespace hrmc::runtime
