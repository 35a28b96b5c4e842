// The communicators, run both as one process and as ranks of `mpirun -np 2` (tests/CMakeLists.txt):
// every value a rank sees after a collective is checked exactly (small integers times 0.5 are exact
// in fp32, so the sum does not depend on the reduction order).
#include <gtest/gtest.h>

#include <cstdlib>
#include <numeric>
#include <string>
#include <vector>

#include "runtime/dist/MpiCommunicator.h"

using namespace hrmc::runtime;

namespace {

Communicator& world() {
  static std::unique_ptr<Communicator> w = worldCommunicator();
  return *w;
}

TEST(Communicator, TheWorldIsTheLaunchersWorld) {
  if (const char* n = std::getenv("OMPI_COMM_WORLD_SIZE")) {
    EXPECT_EQ(world().size(), std::atoi(n));
    EXPECT_EQ(world().rank(), std::atoi(std::getenv("OMPI_COMM_WORLD_RANK")));
  } else {
    EXPECT_FALSE(launchedByMpi());
    EXPECT_EQ(world().size(), 1);
    EXPECT_EQ(world().rank(), 0);
  }
}

TEST(Communicator, AllReduceSumsEveryRanksValuesInPlace) {
  Communicator& c = world();
  // An odd length, so no piece of any implementation lines up with it.
  std::vector<float> data(100'003);
  for (size_t i = 0; i < data.size(); ++i) data[i] = 0.5f * static_cast<float>((c.rank() + 1) * (i % 1000));
  c.allReduceSum(data.data(), static_cast<int64_t>(data.size()));
  const int ranks = c.size();
  const float factor = 0.5f * static_cast<float>(ranks * (ranks + 1) / 2);  // Σ (r + 1) over ranks, halved
  for (size_t i = 0; i < data.size(); ++i) ASSERT_EQ(data[i], factor * static_cast<float>(i % 1000)) << i;
}

TEST(Communicator, BroadcastGivesEveryRankTheRootsBytes) {
  Communicator& c = world();
  const int root = c.size() - 1;
  std::string text = c.rank() == root ? "the root's config and model source" : std::string(34, '?');
  c.broadcast(text.data(), text.size(), root);
  EXPECT_EQ(text, "the root's config and model source");
  c.barrier();
}

TEST(Communicator, OneProcessLeavesTheDataAsItIs) {
  SingleProcess one;
  std::vector<float> data = {1.5f, -2.0f};
  one.allReduceSum(data.data(), 2);
  one.barrier();
  EXPECT_EQ(data, (std::vector<float>{1.5f, -2.0f}));
  EXPECT_EQ(one.size(), 1);
}

}  // namespace
