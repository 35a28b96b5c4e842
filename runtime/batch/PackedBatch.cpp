#include "runtime/batch/PackedBatch.h"

namespace hrmc::runtime {

void PackedSeq::build() {
  if (prefixLens.size() != causalLens.size())
    throw BatchError("prefix_lens has " + std::to_string(prefixLens.size()) + " samples but causal_lens has " +
                     std::to_string(causalLens.size()));
  starts.clear();
  sampleOf.assign(positions.size(), -1);
  int64_t at = 0;
  for (size_t s = 0; s < prefixLens.size(); ++s) {
    const int64_t p = prefixLens[s], c = causalLens[s];
    if (p < 1 || c < 0)
      throw BatchError("sample " + std::to_string(s) + " has prefix length " + std::to_string(p) + " and causal length " +
                       std::to_string(c) + "; a sample needs a prefix of at least 1 token");
    if (at + p + c > tokens())
      throw BatchError("samples need " + std::to_string(at + p + c) + " slots but the batch has " + std::to_string(tokens()));
    starts.push_back(at);
    for (int64_t t = at; t < at + p + c; ++t) sampleOf[t] = static_cast<int32_t>(s);
    at += p + c;
  }
  totalSeqlen = at;
}

std::vector<int32_t> PackedSeq::cuSeqlens() const {
  std::vector<int32_t> cu(positions.size(), 0);
  int32_t sum = 0;
  for (size_t s = 0; s < prefixLens.size() && s + 1 < cu.size(); ++s) {
    sum += prefixLens[s] + causalLens[s];
    cu[s + 1] = sum;
  }
  return cu;
}

}  // namespace hrmc::runtime
