#pragma once
// The reference executor: runs a function of an `hrm` module on the CPU op by op with plain loops
// (runtime/reference/ReferenceKernels.h), in fp32 or fp64. It defines what every op means; the other
// backends are tested against it, and it is pinned to the PyTorch reference by the goldens.
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "runtime/batch/PackedBatch.h"
#include "runtime/exec/Types.h"
#include "runtime/tensor/HostTensor.h"

namespace hrmc::compiler {
class HrmModule;
}

namespace hrmc::runtime {

template <typename Real>
class ReferenceExecutor {
 public:
  explicit ReferenceExecutor(const compiler::HrmModule& module) : module_(module) {}

  struct Outputs {
    std::vector<HostTensor<Real>> results;                       // the function's results, in order
    std::vector<std::pair<std::string, HostTensor<Real>>> steps;  // each recurrent step's new state: "L0", "H1", ...
  };

  // The state value of recurrent steps by label ("L2"), used instead of running those steps.
  using FrozenSteps = std::map<std::string, HostTensor<Real>>;

  // Runs `forward` (results: logits), `loss` (loss, accuracy, exact accuracy) or a train step (those,
  // then the gradients) on a batch. With `frozen`, the listed steps yield the given values: finite
  // differences of a truncated-backprop loss hold the forward-only steps fixed this way.
  // Throws ExecError (missing or mis-shaped weight, bad token id) or BatchError (bad batch).
  Outputs run(const std::string& function, const PackedBatch& batch, const WeightMap& weights,
              const FrozenSteps* frozen = nullptr) const;

 private:
  const compiler::HrmModule& module_;
};

extern template class ReferenceExecutor<float>;
extern template class ReferenceExecutor<double>;

}  // namespace hrmc::runtime
