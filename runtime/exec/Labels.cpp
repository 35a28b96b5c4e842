#include "runtime/exec/Labels.h"

#include <string>

#include "runtime/batch/PackedBatch.h"

namespace hrmc::runtime {

void checkLabels(const int32_t* labels, int64_t T, int64_t V) {
  for (int64_t t = 0; t < T; ++t)
    if (labels[t] != kIgnoreLabel && (labels[t] < 0 || labels[t] >= V))
      throw BatchError("label " + std::to_string(labels[t]) + " at position " + std::to_string(t) +
                       " is outside the vocabulary [0, " + std::to_string(V) + ")");
}

}  // namespace hrmc::runtime
