#include "runtime/exec/LaunchCost.h"

namespace hrmc::runtime {

using compiler::LaunchKind;
using compiler::MaskKind;

double attendedPairs(const PackedSeq& seq, MaskKind mask) {
  double pairs = 0;
  for (int64_t s = 0; s < seq.samples(); ++s) {
    const double P = seq.prefixLens[s], L = P + seq.causalLens[s];
    switch (mask) {
      case MaskKind::Full: pairs += L * L; break;
      case MaskKind::Causal: pairs += L * (L + 1) / 2; break;
      // the prefix sees itself; each later query its predecessors and itself
      case MaskKind::PrefixLM: pairs += P * P + (L * (L + 1) - P * (P + 1)) / 2; break;
    }
  }
  return pairs;
}

LaunchCost launchCost(const LaunchArgs& a) {
  LaunchCost c;
  auto gemm = [&](int64_t rows, int64_t inner, int64_t cols) {
    c.flops = 2.0 * static_cast<double>(rows) * static_cast<double>(inner) * static_cast<double>(cols);
    c.dims = std::to_string(rows) + "x" + std::to_string(inner) + "x" + std::to_string(cols);
  };
  switch (a.launch.kind) {
    case LaunchKind::Linear: {
      const int64_t in = a.in[1].shape[1];
      gemm(a.in[0].numel() / in, in, a.in[1].shape[0]);
      break;
    }
    case LaunchKind::MatMul: {
      const int64_t k = a.in[1].shape[0];
      gemm(a.in[0].numel() / k, k, a.in[1].shape[1]);
      break;
    }
    case LaunchKind::OuterSum: {
      const int64_t m = a.in[0].shape.back();
      gemm(m, a.in[0].numel() / m, a.in[1].shape.back());
      break;
    }
    // two products (scores, probabilities · v) over the attended pairs; the gradient five (the
    // recomputed scores, dp, dq, dk, dv)
    case LaunchKind::Attention:
    case LaunchKind::AttentionGrad:
      c.flops = (a.launch.kind == LaunchKind::Attention ? 4.0 : 10.0) * attendedPairs(a.seq, a.launch.mask) *
                static_cast<double>(a.in[0].shape[1] * a.in[0].shape[2]);
      break;
    default:
      break;
  }
  return c;
}

}  // namespace hrmc::runtime
