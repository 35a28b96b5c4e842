#pragma once
// A fixed pool of worker threads for the CPU backend's kernels: one per core (HRMC_THREADS overrides).
// A program runs hundreds of launches back to back, each split over the pool: between launches the
// threads poll for up to kSpin before they sleep on a condition variable (a sleep/wake round trip
// costs tens of microseconds in a VM, a poll well under one).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace hrmc::runtime::cpu {

class ThreadPool {
 public:
  static ThreadPool& instance();
  explicit ThreadPool(int threads);
  ~ThreadPool();
  int size() const { return static_cast<int>(workers_.size()) + 1; }
  // Calls fn(begin, end) on contiguous chunks covering [0, n), one chunk per thread (the caller runs
  // one), never smaller than minChunk. Returns when all are done; then rethrows the first exception
  // a chunk threw.
  void parallelFor(int64_t n, int64_t minChunk, const std::function<void(int64_t, int64_t)>& fn);

 private:
  static constexpr std::chrono::microseconds kSpin{200};
  void work(int index);
  void runChunk(const std::function<void(int64_t, int64_t)>& fn, int64_t n, int chunks, int index);
  std::vector<std::thread> workers_;
  std::mutex mutex_;  // guards the job below; generation_ and pending_ change under it too
  std::condition_variable wake_, done_;
  const std::function<void(int64_t, int64_t)>* job_ = nullptr;
  int64_t n_ = 0;
  int chunks_ = 0;
  std::atomic<int> pending_{0};         // chunks of the current job that workers have not finished
  std::atomic<uint64_t> generation_{0};  // bumped per job
  std::atomic<bool> stop_{false};
  std::exception_ptr error_;
};

}  // namespace hrmc::runtime::cpu
