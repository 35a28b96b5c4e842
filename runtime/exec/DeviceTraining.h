#pragma once
// Device-resident training for every backend that runs compiled programs on a Device: each weight, its
// gradient accumulator, moments and EMA are device buffers bound once; the train step's gradients are
// added to the accumulators where they were computed, summed over the communicator's ranks, and the
// AdamATan2 + EMA update runs as the device's kernel, writing the bf16 copies bf16 programs read in
// the same pass. Only the three scalars of each micro-batch cross to the host.
#include <functional>
#include <map>
#include <string>

#include "runtime/dist/Communicator.h"
#include "runtime/exec/Device.h"
#include "runtime/exec/ProgramRunner.h"
#include "runtime/exec/Training.h"

namespace hrmc::runtime {

class DeviceTraining final : public Training {
 public:
  // The runner of a function, compiled and loaded on first use (throws ExecError when it cannot be).
  using Runners = std::function<ProgramRunner&(const std::string& function)>;
  // Binds `params` (every weight and buffer); the weights with an entry in `state` are trained.
  DeviceTraining(Device& device, Runners runners, const WeightMap& params, const OptimizerState& state,
                 const AdamAtan2Config& config, Communicator& communicator);

  StepScalars accumulate(const std::string& function, const std::vector<std::string>& gradientNames,
                         const PackedBatch& batch, double weight) override;
  void step(double lr) override;
  WeightMap parameters() const override;
  OptimizerState optimizerState() const override;
  int64_t residentBytes() const override;

 private:
  struct Param {
    std::vector<int64_t> shape;
    int64_t numel = 0;
    DeviceBuffer w, bf16;  // bf16: the weight's bf16 copy, once a program reads one
    // trained weights only:
    DeviceBuffer grad, m, v, ema;
    float step = 0;
    bool trainable = false, hasGradient = false;
  };
  DeviceBuffer upload(const HostTensor<float>& t);
  // Makes the bf16 copies of every weight the first time a program reads weights in bf16; the
  // optimizer step then writes them with the weights.
  void keepBf16Copies(const compiler::KernelProgram& program);
  HostTensor<float> download(const DeviceBuffer& b, const std::vector<int64_t>& shape) const;

  Device& device_;
  Runners runners_;
  AdamAtan2Config config_;
  Communicator& communicator_;
  std::map<std::string, Param> params_;
  bool bf16Copies_ = false;  // every Param has its bf16 copy
  WeightViews views_;
};

}  // namespace hrmc::runtime
