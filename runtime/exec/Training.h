#pragma once
// Device-resident training state (HRM-TEXT.md §4): the parameters, their gradient accumulators and
// the AdamATan2 + EMA state live where the backend computes. The trainer binds them once, then per
// micro-batch reads three scalars; it reads weights and optimizer state back only to checkpoint,
// evaluate or generate.
#include <string>
#include <vector>

#include "runtime/batch/PackedBatch.h"
#include "runtime/exec/AdamAtan2.h"
#include "runtime/exec/Types.h"

namespace hrmc::runtime {

struct StepScalars {
  double loss = 0, accuracy = 0, exact = 0;
};

// Throws ExecError unless a train step returned the 3 scalars and one gradient per name.
inline void checkTrainStepResults(const std::string& function, size_t results, const std::vector<std::string>& gradientNames) {
  if (results != 3 + gradientNames.size())
    throw ExecError("'" + function + "' returns " + std::to_string(results) + " results, not the 3 scalars and " +
                    std::to_string(gradientNames.size()) + " gradients of a train step");
}

class Training {
 public:
  virtual ~Training() = default;
  // Runs the train step `function` (results: loss, accuracy, exact, then the gradients of
  // `gradientNames`) on one micro-batch with the bound parameters, and adds weight × each gradient to
  // that parameter's accumulator. Returns the step's scalars.
  virtual StepScalars accumulate(const std::string& function, const std::vector<std::string>& gradientNames,
                                 const PackedBatch& batch, double weight) = 0;
  // Sums the accumulators over the communicator's ranks, applies one AdamATan2 + EMA update at `lr` to
  // every parameter that received a gradient since the last step (the others are left alone: no decay,
  // no moments, no step count), and clears the accumulators.
  virtual void step(double lr) = 0;
  // Host copies of the parameters (every bound weight and buffer) and of the optimizer state.
  virtual WeightMap parameters() const = 0;
  virtual OptimizerState optimizerState() const = 0;
  // Bytes the bound state takes on the device (parameters, accumulators, moments, EMA).
  virtual int64_t residentBytes() const = 0;
};

}  // namespace hrmc::runtime
