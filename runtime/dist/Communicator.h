#pragma once
// The seam between gradient accumulation and the optimizer step, and everything else ranks share in
// data-parallel training: rank and world size, the fp32 gradient sum, broadcasts and a barrier. One
// process (SingleProcess) and MPI across CPU processes (MpiCommunicator.h) implement it; NCCL across
// GPUs is the CUDA backend's (issue "Data-parallel training").
#include <cstddef>
#include <cstdint>

namespace hrmc::runtime {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // data[0, n) ← Σ over ranks, in place, in the memory of the device that computed it.
  virtual void allReduceSum(float* data, int64_t n) = 0;
  // data[0, bytes) on every rank ← root's.
  virtual void broadcast(void* data, size_t bytes, int root) = 0;
  virtual void barrier() = 0;
};

// One process: the sum over one rank is the data itself.
class SingleProcess final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void allReduceSum(float*, int64_t) override {}
  void broadcast(void*, size_t, int) override {}
  void barrier() override {}
};

// The one-process world, for everything that runs in a single process.
inline Communicator& singleProcess() {
  static SingleProcess one;
  return one;
}

}  // namespace hrmc::runtime
