#pragma once
// Data-parallel ranks over MPI (Debian's Open MPI): CPU processes on one machine or many, started by
// `mpirun -np N hrmc ...` or Slurm's `srun`. MPI is initialised on first use and finalised at exit.
#include <memory>
#include <string>

#include "runtime/dist/Communicator.h"

namespace hrmc::runtime {

// Whether this process was started by an MPI launcher (mpirun, srun with PMI): its environment
// names a world size.
bool launchedByMpi();

// The world of ranks this process belongs to: MPI when launchedByMpi(), one process otherwise.
// Throws std::runtime_error when MPI cannot start.
std::unique_ptr<Communicator> worldCommunicator();

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator();  // joins MPI_COMM_WORLD (initialising MPI if nobody has)
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void allReduceSum(float* data, int64_t n) override;
  void broadcast(void* data, size_t bytes, int root) override;
  void barrier() override;

 private:
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace hrmc::runtime
