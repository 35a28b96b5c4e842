#include "runtime/exec/MemoryPlan.h"

#include <algorithm>
#include <utility>

namespace hrmc::runtime {

namespace {

int64_t alignUp(int64_t n) { return (n + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment; }

}  // namespace

MemoryPlan planMemory(const compiler::KernelProgram& program, int64_t T) {
  MemoryPlan plan;
  plan.tokens = T;
  const size_t n = program.values.size();
  const int end = static_cast<int>(program.launches.size());
  plan.offsets.assign(n, -1);
  plan.bytes.assign(n, 0);
  plan.firstLaunch.assign(n, -1);
  plan.lastLaunch.assign(n, -1);
  for (int i = 0; i < end; ++i) {
    for (int v : program.launches[i].outputs) plan.firstLaunch[v] = plan.lastLaunch[v] = i;
    for (int v : program.launches[i].inputs) plan.lastLaunch[v] = std::max(plan.lastLaunch[v], i);
  }
  for (int v : program.results) plan.lastLaunch[v] = end;
  std::vector<int> order;
  for (size_t v = 0; v < n; ++v)
    if (program.values[v].argument < 0) {
      plan.bytes[v] = alignUp(program.values[v].elements(T) * program.values[v].elementBytes());
      order.push_back(static_cast<int>(v));
    }
  // Largest first, each at the lowest offset that no buffer with an overlapping lifetime occupies.
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return plan.bytes[a] > plan.bytes[b]; });
  std::vector<int> placed;
  for (int v : order) {
    std::vector<std::pair<int64_t, int64_t>> busy;
    for (int w : placed)
      if (plan.firstLaunch[w] <= plan.lastLaunch[v] && plan.firstLaunch[v] <= plan.lastLaunch[w])
        busy.emplace_back(plan.offsets[w], plan.offsets[w] + plan.bytes[w]);
    std::sort(busy.begin(), busy.end());
    int64_t at = 0;
    for (auto [b, e] : busy) {
      if (at + plan.bytes[v] <= b) break;
      at = std::max(at, e);
    }
    plan.offsets[v] = at;
    plan.arenaBytes = std::max(plan.arenaBytes, at + plan.bytes[v]);
    placed.push_back(v);
  }
  for (int i = 0; i < end; ++i) {
    int64_t live = 0;
    for (int v : order)
      if (plan.firstLaunch[v] <= i && i <= plan.lastLaunch[v]) live += plan.bytes[v];
    plan.liveBytesPeak = std::max(plan.liveBytesPeak, live);
  }
  return plan;
}

}  // namespace hrmc::runtime
