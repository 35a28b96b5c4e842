#pragma once
// How a generated CUDA kernel is launched: the mapping the CUDA C printer chose for it and what the
// grid is for T packed tokens. Written by compiler/codegen/cuda/, read by the CUDA runtime and the
// host emulation; MLIR-free.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace hrmc::compiler {

enum class CudaMapping {
  Rows,      // one block per token row (grid-stride over rows), the block's threads over the row's work
  Elements,  // independent loop nests: every thread of the grid takes elements of each in turn
  OneBlock,  // dependent loop nests over whole tensors: one block, barriers between them
};
inline const char* spell(CudaMapping m) {
  switch (m) {
    case CudaMapping::Rows: return "rows";
    case CudaMapping::Elements: return "elements";
    case CudaMapping::OneBlock: return "one block";
  }
  return "?";
}

struct CudaKernelShape {
  std::string name;
  CudaMapping mapping = CudaMapping::Rows;
  int threads = 256;             // threads per block on the GPU (the kernel is correct for any count)
  int64_t sharedBytes = 0;       // static shared memory: row temporaries and reduction scratch
  int pointers = 0;              // buffer arguments, in the kernel function's order; then `long long T`
  // Elements: the most elements any loop nest distributes, workPerToken·T + workFixed.
  int64_t workPerToken = 0, workFixed = 0;

  // Blocks to launch for T tokens (0: nothing to do).
  int64_t blocks(int64_t T, int64_t maxBlocks = 65535) const {
    if (mapping == CudaMapping::OneBlock) return 1;
    const int64_t work = mapping == CudaMapping::Rows ? T : (workPerToken * T + workFixed + threads - 1) / threads;
    return std::min(work, maxBlocks);
  }
};

}  // namespace hrmc::compiler
