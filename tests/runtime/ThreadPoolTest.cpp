// The CPU backend's thread pool: every index covered exactly once, back-to-back jobs (the polling
// path) and jobs after the workers went to sleep, and an exception in any chunk reaching the caller
// only after every chunk is done.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "runtime/cpu/ThreadPool.h"

namespace hrmc::runtime::cpu {
namespace {

TEST(ThreadPool, CoversEveryIndexOnce) {
  ThreadPool pool(3);
  for (int64_t n : {1, 2, 3, 7, 64, 1000}) {
    for (int round = 0; round < 200; ++round) {
      std::vector<std::atomic<int>> hits(n);
      pool.parallelFor(n, 1, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) ++hits[i];
      });
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i], 1) << "n = " << n << ", index " << i;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // let the workers fall asleep
  }
}

TEST(ThreadPool, RethrowsAChunksExceptionAfterAllChunks) {
  ThreadPool pool(2);
  std::atomic<int> finished{0};
  try {
    pool.parallelFor(2, 1, [&](int64_t b, int64_t) {
      if (b == 0) throw std::runtime_error("chunk 0 failed");  // the caller's own chunk
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      ++finished;
    });
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "chunk 0 failed");
    EXPECT_EQ(finished, 1) << "returned before the other chunk was done";
  }
  int sum = 0;  // the pool still works
  pool.parallelFor(2, 1, [&](int64_t b, int64_t) { if (b == 0) sum = 1; });
  EXPECT_EQ(sum, 1);
}

}  // namespace
}  // namespace hrmc::runtime::cpu
