#include "runtime/data/Packing.h"

#include <algorithm>
#include <numeric>
#include <string>

namespace hrmc::runtime {

std::vector<int64_t> epochOrder(int64_t n, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  SplitMix64 rng(seed * 0x100000001B3ull + static_cast<uint64_t>(epoch) + 1);
  for (int64_t i = n - 1; i > 0; --i) std::swap(order[i], order[rng.below(static_cast<uint64_t>(i) + 1)]);
  return order;
}

namespace {

// 1-indexed binary min-heap of bin loads with the reference's tie rules (right child only if
// strictly smaller; stop when the parent is <=).
struct LptHeap {
  std::vector<int64_t> load, id;
  explicit LptHeap(int n) : load(n + 1, 0), id(n + 1, 0) {
    for (int i = 1; i <= n; ++i) id[i] = i - 1;
  }
  int n() const { return static_cast<int>(load.size()) - 1; }
  void siftDown(int u) {
    while (2 * u <= n()) {
      int v = 2 * u;
      if (2 * u + 1 <= n() && load[2 * u + 1] < load[v]) v = 2 * u + 1;
      if (load[u] <= load[v]) break;
      std::swap(load[u], load[v]);
      std::swap(id[u], id[v]);
      u = v;
    }
  }
};

bool lptCheck(std::vector<int64_t> a, int64_t capacity, int n) {
  std::sort(a.begin(), a.end(), std::greater<int64_t>());
  LptHeap heap(n);
  for (int64_t x : a) {
    heap.load[1] += x;
    if (heap.load[1] > capacity) return false;
    heap.siftDown(1);
  }
  return true;
}

std::vector<int64_t> lptAssign(const std::vector<int64_t>& a, int n, int rank) {
  // Descending by length; among equal lengths the later index first (reverse of a stable ascending sort).
  std::vector<int64_t> order(a.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) { return a[x] < a[y]; });
  std::reverse(order.begin(), order.end());
  LptHeap heap(n);
  std::vector<int64_t> out;
  for (int64_t o : order) {
    heap.load[1] += a[o];
    if (heap.id[1] == rank) out.push_back(o);
    heap.siftDown(1);
  }
  return out;
}

}  // namespace

std::vector<std::vector<int64_t>> multipackBatches(const std::vector<int64_t>& lengths, int64_t capacity, int worldSize,
                                                   int rank, bool dropLast) {
  std::vector<std::vector<int64_t>> batches;
  const int64_t N = static_cast<int64_t>(lengths.size());
  int64_t start = 0;
  while (start < N) {
    // 1. greedy window: add samples until the running sum reaches c·n (the crossing sample included)
    int64_t end = start, sum = 0;
    while (end < N) {
      sum += lengths[end];
      ++end;
      if (sum >= capacity * worldSize) break;
    }
    std::vector<int64_t> window(lengths.begin() + start, lengths.begin() + end);
    // 2. the longest prefix LPT can schedule with every bin <= c
    int64_t lo = 1, hi = static_cast<int64_t>(window.size()) + 1;
    while (hi - lo > 1) {
      const int64_t mid = (lo + hi) / 2;
      if (lptCheck(std::vector<int64_t>(window.begin(), window.begin() + mid), capacity, worldSize)) lo = mid;
      else hi = mid;
    }
    const int64_t m = lo;
    std::vector<int64_t> mine = lptAssign(std::vector<int64_t>(window.begin(), window.begin() + m), worldSize, rank);
    for (int64_t& i : mine) i += start;
    start += m;
    if (m < worldSize) break;                  // fewer sequences than ranks: the epoch ends
    if (dropLast && start >= N) break;         // the batch that reaches the end is dropped
    batches.push_back(std::move(mine));
  }
  return batches;
}

PackedBatch buildBatch(const TokenizedSamples& data, const std::vector<int64_t>& samples, int64_t T, bool targetOnly) {
  PackedBatch b;
  b.inputs.reserve(T);
  for (int64_t s : samples) {
    const int32_t* q = data.tokens.data() + data.instStart[s];
    const int32_t* a = data.tokens.data() + data.respStart[s];
    const int64_t P = data.instLen[s], R = data.respLen[s];
    if (R < 2 || P < 1)
      throw BatchError("sample " + std::to_string(s) + " has a response of " + std::to_string(R) +
                       " tokens; packing needs at least one response token besides EOA");
    b.inputs.insert(b.inputs.end(), q, q + P);
    b.inputs.insert(b.inputs.end(), a, a + R - 1);
    if (targetOnly) b.labels.insert(b.labels.end(), P - 1, -100);
    else b.labels.insert(b.labels.end(), q + 1, q + P);
    b.labels.insert(b.labels.end(), a, a + R);
    for (int64_t i = 0; i < P + R - 1; ++i) b.seq.positions.push_back(static_cast<int32_t>(i));
    b.seq.prefixLens.push_back(static_cast<int32_t>(P));
    b.seq.causalLens.push_back(static_cast<int32_t>(R - 1));
  }
  if (static_cast<int64_t>(b.inputs.size()) > T)
    throw BatchError("samples need " + std::to_string(b.inputs.size()) + " slots, more than the batch's " + std::to_string(T));
  b.inputs.resize(T, 0);
  b.labels.resize(T, -100);
  b.seq.positions.resize(T, 0);
  b.seq.build();
  return b;
}

}  // namespace hrmc::runtime
