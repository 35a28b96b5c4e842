#include "runtime/exec/WeightCheck.h"

namespace hrmc::runtime {

void checkWeightFits(const WeightMap& weights, const std::string& name, const std::vector<int64_t>& shape,
                     const std::string& source) {
  const std::string where = source.empty() ? "" : source + ": ";
  auto it = weights.find(name);
  if (it == weights.end())
    throw ExecError(where + "weight '" + name + "' is missing" +
                    (source.empty() ? "" : "\nhint: were these weights trained from another model? weight names follow HRM-TEXT.md §1.11"));
  if (it->second.shape != shape)
    throw ExecError(where + "weight '" + name + "' has shape " + shapeString(it->second.shape) + " but the model needs " +
                    shapeString(shape) +
                    (source.empty() ? "" : "\nhint: choose the --preset (and --set values) the weights were trained with"));
}

void checkWeightsFit(const WeightMap& weights, const std::vector<WeightNeed>& needs, const std::string& source) {
  for (const WeightNeed& n : needs) checkWeightFits(weights, n.name, n.shape, source);
}

}  // namespace hrmc::runtime
