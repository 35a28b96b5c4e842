#include "runtime/exec/WeightCheck.h"

namespace hrmc::runtime {

void checkWeightShape(const std::string& name, const std::vector<int64_t>* have, const std::vector<int64_t>& shape,
                      const std::string& source) {
  const std::string where = source.empty() ? "" : source + ": ";
  if (!have)
    throw ExecError(where + "weight '" + name + "' is missing" +
                    (source.empty() ? "" : "\nhint: were these weights trained from another model? weight names follow HRM-TEXT.md §1.11"));
  if (*have != shape)
    throw ExecError(where + "weight '" + name + "' has shape " + shapeString(*have) + " but the model needs " +
                    shapeString(shape) +
                    (source.empty() ? "" : "\nhint: choose the --preset (and --set values) the weights were trained with"));
}

void checkWeightFits(const WeightMap& weights, const std::string& name, const std::vector<int64_t>& shape,
                     const std::string& source) {
  auto it = weights.find(name);
  checkWeightShape(name, it == weights.end() ? nullptr : &it->second.shape, shape, source);
}

void checkWeightsFit(const WeightMap& weights, const std::vector<WeightNeed>& needs, const std::string& source) {
  for (const WeightNeed& n : needs) checkWeightFits(weights, n.name, n.shape, source);
}

}  // namespace hrmc::runtime
