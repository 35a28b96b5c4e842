#include "runtime/cpu/ThreadPool.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

namespace hrmc::runtime::cpu {

namespace {
// Polls `ready` until it holds or kSpin has passed; whether it holds.
template <typename Ready>
bool spinUntil(Ready ready, std::chrono::microseconds spin) {
  const auto deadline = std::chrono::steady_clock::now() + spin;
  for (int i = 0;; ++i) {
    if (ready()) return true;
    if ((i & 63) == 63 && std::chrono::steady_clock::now() > deadline) return false;
#if defined(__x86_64__)
    __builtin_ia32_pause();
#endif
  }
}
}  // namespace

ThreadPool& ThreadPool::instance() {
  static ThreadPool pool([] {
    if (const char* env = std::getenv("HRMC_THREADS"))
      if (int n = std::atoi(env); n > 0) return n;
    return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  }());
  return pool;
}

ThreadPool::ThreadPool(int threads) {
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { work(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::runChunk(const std::function<void(int64_t, int64_t)>& fn, int64_t n, int chunks, int index) {
  const int64_t begin = n * index / chunks, end = n * (index + 1) / chunks;
  try {
    if (begin < end) fn(begin, end);
  } catch (...) {  // kept for the caller, once every chunk is done
    std::lock_guard<std::mutex> lock(mutex_);
    if (!error_) error_ = std::current_exception();
  }
}

void ThreadPool::parallelFor(int64_t n, int64_t minChunk, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  const int chunks = static_cast<int>(std::min<int64_t>(size(), std::max<int64_t>(1, n / std::max<int64_t>(1, minChunk))));
  if (chunks <= 1) {
    fn(0, n);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &fn;
    n_ = n;
    chunks_ = chunks;
    pending_ = chunks - 1;
    ++generation_;
  }
  wake_.notify_all();
  runChunk(fn, n, chunks, 0);
  if (!spinUntil([this] { return pending_ == 0; }, kSpin)) {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return pending_ == 0; });
  }
  std::lock_guard<std::mutex> lock(mutex_);
  job_ = nullptr;
  if (std::exception_ptr error = std::exchange(error_, nullptr)) std::rethrow_exception(error);
}

void ThreadPool::work(int index) {
  uint64_t seen = 0;
  for (;;) {
    spinUntil([&] { return stop_ || generation_ != seen; }, kSpin);
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
    if (stop_) return;
    seen = generation_;
    if (index >= chunks_) continue;  // this job needs fewer threads
    const auto* job = job_;
    const int64_t n = n_;
    const int chunks = chunks_;
    lock.unlock();
    runChunk(*job, n, chunks, index);
    if (--pending_ == 0) {
      lock.lock();  // the caller checks pending_ under the lock before it sleeps: no lost wake-up
      done_.notify_one();
    }
  }
}

}  // namespace hrmc::runtime::cpu
