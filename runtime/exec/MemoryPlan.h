#pragma once
// Where every intermediate value of a kernel program lives: buffers assigned by liveness to offsets in
// one arena, for any device.
#include <cstdint>
#include <vector>

#include "compiler/kernels/KernelProgram.h"

namespace hrmc::runtime {

// Value i lives in [offsets[i], offsets[i] + bytes[i]) of the arena from the launch that writes it to
// the last launch that reads it (the end, for results).
struct MemoryPlan {
  int64_t tokens = 0;
  std::vector<int64_t> offsets, bytes;  // per program value; -1 / 0 for arguments
  std::vector<int> firstLaunch, lastLaunch;
  int64_t arenaBytes = 0;               // the planned peak
  int64_t liveBytesPeak = 0;            // the most bytes live at once: what any plan needs
};

// Offsets aligned to kArenaAlignment; largest buffers placed first, best fit.
constexpr int64_t kArenaAlignment = 64;
MemoryPlan planMemory(const compiler::KernelProgram& program, int64_t tokens);

}  // namespace hrmc::runtime
