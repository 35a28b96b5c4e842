#pragma once
// HRMC_DEBUG: 1 prints a line per kernel launch, compile and memory plan; 2 also the fused kernels;
// 3 the generated CUDA C of each program the CUDA target compiles; 4 its PTX.
#include <cstdlib>

namespace hrmc::compiler {

inline int debugLevel() {
  static const int level = [] {
    const char* env = std::getenv("HRMC_DEBUG");
    return env ? std::atoi(env) : 0;
  }();
  return level;
}

}  // namespace hrmc::compiler
