#pragma once
// A packed batch (HRM-TEXT.md §3.5): T token slots holding several instruction→response samples
// back to back, then padding. The sequence metadata is what rope and attention read.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace hrmc::runtime {

struct BatchError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct PackedSeq {
  std::vector<int32_t> positions;   // [T] position id of each slot (0 for padding)
  std::vector<int32_t> prefixLens;  // per sample: instruction length P (bidirectional part)
  std::vector<int32_t> causalLens;  // per sample: response length minus one C
  // Derived by build():
  std::vector<int64_t> starts;      // per sample: first slot
  std::vector<int32_t> sampleOf;    // [T] sample index of each slot, -1 for padding
  int64_t totalSeqlen = 0;          // slots used by samples; the rest is padding

  int64_t tokens() const { return static_cast<int64_t>(positions.size()); }
  int64_t samples() const { return static_cast<int64_t>(prefixLens.size()); }
  // Checks the metadata and derives starts/sampleOf; throws BatchError naming what is wrong.
  void build();
  // cu_seqlens as the reference lays it out: [0, L1, L1+L2, ..., total, 0, 0, ...] of length T.
  std::vector<int32_t> cuSeqlens() const;
};

struct PackedBatch {
  std::vector<int32_t> inputs;  // [T] token ids (0 for padding)
  std::vector<int32_t> labels;  // [T] targets, -100 where none
  PackedSeq seq;
};

}  // namespace hrmc::runtime
