#pragma once
// The one rule for weights that do not fit a model, used wherever weights meet a model: loading a
// checkpoint or reference weights, restoring a run, and binding arguments in every executor.
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/exec/Types.h"

namespace hrmc::runtime {

struct WeightNeed {
  std::string name;
  std::vector<int64_t> shape;
};

// Throws ExecError "SOURCE: weight 'X' is missing" or "SOURCE: weight 'X' has shape A but the model
// needs B" with a hint, for the first weight that does not fit. `source` names where the weights came
// from ("the checkpoint runs/x", "weights.safetensors"); without one (an executor binding its
// arguments) the message is the bare sentence.
void checkWeightsFit(const WeightMap& weights, const std::vector<WeightNeed>& needs, const std::string& source);
// One weight (an executor binding its arguments), from a map or by its shape (null: missing).
void checkWeightShape(const std::string& name, const std::vector<int64_t>* have, const std::vector<int64_t>& shape,
                      const std::string& source = "");
void checkWeightFits(const WeightMap& weights, const std::string& name, const std::vector<int64_t>& shape,
                     const std::string& source = "");

}  // namespace hrmc::runtime
