#pragma once
// The seam between gradient accumulation and the optimizer step: every rank's accumulated gradients
// are summed before the update (data-parallel training). Single process today; MPI (CPU) and NCCL
// (GPU) communicators implement the same interface (runtime/dist/, with their issue).
#include <cstdint>

namespace hrmc::runtime {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // data[0, n) ← Σ over ranks, in place, in the memory of the device that computed it.
  virtual void allReduceSum(float* data, int64_t n) = 0;
};

// One process: the sum over one rank is the data itself.
class SingleProcess final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void allReduceSum(float*, int64_t) override {}
};

}  // namespace hrmc::runtime
