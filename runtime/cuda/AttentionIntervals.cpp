#include "runtime/cuda/AttentionIntervals.h"

namespace hrmc::runtime::cuda {

AttentionIntervals attentionIntervals(const PackedSeq& seq, compiler::MaskKind mask) {
  const int64_t T = seq.tokens();
  AttentionIntervals r;
  r.lo.assign(T, 0);
  r.hi.assign(T, 0);
  r.qlo.assign(T, 0);
  r.qhi.assign(T, 0);
  for (int64_t t = 0; t < T; ++t) {
    const int32_t s = seq.sampleOf[t];
    if (s < 0) continue;
    const int32_t o = static_cast<int32_t>(seq.starts[s]), P = seq.prefixLens[s], L = P + seq.causalLens[s];
    const int32_t u = static_cast<int32_t>(t);
    const bool inPrefix = u < o + P;
    r.lo[t] = o;
    r.qhi[t] = o + L;
    switch (mask) {
      case compiler::MaskKind::PrefixLM:
        r.hi[t] = inPrefix ? o + P : u + 1;
        r.qlo[t] = inPrefix ? o : u;  // prefix keys are seen by the whole sample, response keys by later rows
        break;
      case compiler::MaskKind::Causal:
        r.hi[t] = u + 1;
        r.qlo[t] = u;
        break;
      case compiler::MaskKind::Full:
        r.hi[t] = o + L;
        r.qlo[t] = o;
        break;
    }
  }
  return r;
}

}  // namespace hrmc::runtime::cuda
