#pragma once
// Theoretical occupancy of a kernel on one SM (CUDA's occupancy rules, the limits of sm_80 and
// sm_90): resident warps over the SM's maximum, limited by threads, registers and shared memory.
// MLIR-free.
#include <algorithm>
#include <cstdint>
#include <string>

namespace hrmc::compiler {

inline double occupancy(const std::string& arch, int threads, int registers, int64_t sharedBytes) {
  const bool hopper = arch == "sm_90" || arch == "sm_90a";
  const int maxWarps = 64, maxBlocks = 32, regsPerSm = 65536;
  const int64_t smemPerSm = hopper ? 228 * 1024 : 164 * 1024;
  const int warps = (threads + 31) / 32;
  if (warps == 0) return 0;
  // Registers are allocated per warp in units of 256.
  const int regsPerWarp = (std::max(registers, 1) * 32 + 255) / 256 * 256;
  int blocks = std::min(maxBlocks, maxWarps / warps);
  blocks = std::min(blocks, regsPerSm / (regsPerWarp * warps));
  // Each block also reserves 1 KiB of shared memory for the system.
  if (sharedBytes > 0) blocks = std::min<int64_t>(blocks, smemPerSm / (sharedBytes + 1024));
  return static_cast<double>(blocks * warps) / maxWarps;
}

}  // namespace hrmc::compiler
