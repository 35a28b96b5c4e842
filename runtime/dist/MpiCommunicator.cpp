#include "runtime/dist/MpiCommunicator.h"

#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <stdexcept>

namespace hrmc::runtime {

namespace {

// MPI counts are ints: larger buffers go in pieces of at most this many elements.
constexpr int64_t kMaxCount = INT_MAX / 2;

void check(int code, const char* what) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(code, text, &len);
  throw std::runtime_error(std::string("MPI ") + what + " failed: " + std::string(text, static_cast<size_t>(len)));
}

void finalizeAtExit() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

}  // namespace

bool launchedByMpi() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (std::getenv(var)) return true;
  return false;
}

std::unique_ptr<Communicator> worldCommunicator() {
  if (launchedByMpi()) return std::make_unique<MpiCommunicator>();
  return std::make_unique<SingleProcess>();
}

MpiCommunicator::MpiCommunicator() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    // Only the calling thread talks to MPI; the thread pool's workers never do.
    int provided = 0;
    check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "initialisation");
    std::atexit(finalizeAtExit);
  }
  // Errors come back as codes (and become exceptions with MPI's message) rather than aborting the job.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "rank query");
  check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "size query");
}

void MpiCommunicator::allReduceSum(float* data, int64_t n) {
  for (int64_t at = 0; at < n; at += kMaxCount) {
    const int count = static_cast<int>(std::min(kMaxCount, n - at));
    check(MPI_Allreduce(MPI_IN_PLACE, data + at, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD), "all-reduce");
  }
}

void MpiCommunicator::broadcast(void* data, size_t bytes, int root) {
  auto* p = static_cast<char*>(data);
  for (size_t at = 0; at < bytes; at += static_cast<size_t>(kMaxCount)) {
    const int count = static_cast<int>(std::min(static_cast<size_t>(kMaxCount), bytes - at));
    check(MPI_Bcast(p + at, count, MPI_BYTE, root, MPI_COMM_WORLD), "broadcast");
  }
}

void MpiCommunicator::barrier() { check(MPI_Barrier(MPI_COMM_WORLD), "barrier"); }

}  // namespace hrmc::runtime
