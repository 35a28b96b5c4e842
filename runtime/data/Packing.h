#pragma once
// Turning tokenised samples into packed batches: per-epoch shuffles, the multipack sampler of
// HRM-TEXT.md §3.4 (exact tie rules, any world size), and the PrefixLM batch layout of §3.5.
#include <cstdint>
#include <vector>

#include "runtime/batch/PackedBatch.h"
#include "runtime/data/Samples.h"

namespace hrmc::runtime {

// A small, portable, seedable generator (SplitMix64): the same numbers on every platform, so data
// order and sampling are reproducible and resumable from a saved state.
struct SplitMix64 {
  uint64_t state;
  explicit SplitMix64(uint64_t seed = 0) : state(seed) {}
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  uint64_t below(uint64_t n) { return next() % n; }
};

// The order of samples in an epoch: a Fisher-Yates permutation seeded by (seed, epoch).
std::vector<int64_t> epochOrder(int64_t n, uint64_t seed, int64_t epoch);

// Multipack for one rank. `lengths` are packed lengths in epoch order; each batch holds sample
// positions (indices into `lengths`) in LPT order (longest first).
std::vector<std::vector<int64_t>> multipackBatches(const std::vector<int64_t>& lengths, int64_t capacity, int worldSize,
                                                   int rank, bool dropLast);

// The PrefixLM layout of §3.5 for the given samples, right-padded to T slots: inputs q ++ a[:-1],
// labels [-100]*(P-1) ++ a (or q[1:] ++ a when !targetOnly), positions restarting at 0 per sample.
PackedBatch buildBatch(const TokenizedSamples& data, const std::vector<int64_t>& samples, int64_t T, bool targetOnly);

}  // namespace hrmc::runtime
