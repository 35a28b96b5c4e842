#pragma once
// The key interval of every query row and the query interval of every key (CUDA-NOTES.md §3), what the
// CUDA attention kernels (stdlib/cuda/hrm_attention.cuh) read instead of a mask: for slot t of sample s
// (first slot o, prefix P, length L), keys [lo, hi) = PrefixLM [o, t < o+P ? o+P : t+1), causal
// [o, t+1), full [o, o+L); padding rows and keys have empty intervals. MLIR-free.
#include <cstdint>
#include <vector>

#include "compiler/kernels/KernelProgram.h"
#include "runtime/batch/PackedBatch.h"

namespace hrmc::runtime::cuda {

struct AttentionIntervals {
  std::vector<int32_t> lo, hi;    // [T] keys of each query row
  std::vector<int32_t> qlo, qhi;  // [T] query rows of each key
};
AttentionIntervals attentionIntervals(const PackedSeq& seq, compiler::MaskKind mask);

}  // namespace hrmc::runtime::cuda
