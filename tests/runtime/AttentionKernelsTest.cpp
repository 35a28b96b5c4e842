// The CPU backend's attention kernels against the reference's plain loops (in fp64) on packed samples
// long enough to span several query blocks (64) and key blocks (256), with padding between samples,
// every mask, and head sizes that are and are not a multiple of the vector width.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "runtime/cpu/AttentionKernels.h"
#include "runtime/reference/ReferenceKernels.h"
#include "runtime/tensor/Bf16.h"
#include "tests/runtime/AttentionCase.h"

namespace hrmc::runtime {
namespace {

using compiler::MaskKind;

struct Case {
  MaskKind mask;
  int heads, hd;
};

class AttentionKernels : public testing::TestWithParam<Case> {};

TEST_P(AttentionKernels, ForwardAndBackwardMatchTheReference) {
  const auto [mask, heads, hd] = GetParam();
  const PackedSeq seq = packedSamples({1, 2, 63, 64, 65, 130, 300, 700});
  const size_t n = static_cast<size_t>(seq.tokens() * heads * hd);
  std::mt19937 rng(11);
  // Scores of a few units: softmax neither flat nor one-hot.
  const auto q = randomRows(rng, n, 1.5f), k = randomRows(rng, n, 1.5f), v = randomRows(rng, n, 1.0f),
             g = randomRows(rng, n, 1.0f);
  std::vector<float> o(n, NAN), dq(n, NAN), dk(n, NAN), dv(n, NAN);
  cpu::attention(q.data(), k.data(), v.data(), o.data(), seq, heads, hd, mask);
  cpu::attentionGrad(q.data(), k.data(), v.data(), g.data(), dq.data(), dk.data(), dv.data(), seq, heads, hd, mask);

  const auto qd = toDouble(q), kd = toDouble(k), vd = toDouble(v), gd = toDouble(g);
  std::vector<double> wo(n), wdq(n), wdk(n), wdv(n);
  ref::attention(qd.data(), kd.data(), vd.data(), wo.data(), seq, heads, hd, mask);
  ref::attentionGrad(qd.data(), kd.data(), vd.data(), gd.data(), wdq.data(), wdk.data(), wdv.data(), seq, heads, hd,
                     mask);
  EXPECT_LT(worstError(o, wo), 2e-5);
  EXPECT_LT(worstError(dq, wdq), 5e-5);
  EXPECT_LT(worstError(dk, wdk), 5e-5);
  EXPECT_LT(worstError(dv, wdv), 5e-5);
}

INSTANTIATE_TEST_SUITE_P(Shapes, AttentionKernels,
                         testing::Values(Case{MaskKind::PrefixLM, 4, 32}, Case{MaskKind::Causal, 2, 64},
                                         Case{MaskKind::Full, 3, 24}, Case{MaskKind::PrefixLM, 1, 128}));

// bf16 attention on each tile ISA this CPU has, against the fp64 reference on the same (rounded)
// inputs, within worstExcess's bound (AttentionCase.h).
class AttentionKernelsBf16 : public testing::TestWithParam<std::tuple<Case, cpu::TileIsa>> {};

TEST_P(AttentionKernelsBf16, ForwardAndBackwardMatchTheReference) {
  const auto [shape, isa] = GetParam();
  const auto [mask, heads, hd] = shape;
  if (isa == cpu::TileIsa::Amx && cpu::bestTileIsa() != cpu::TileIsa::Amx) GTEST_SKIP() << "this CPU has no AMX-BF16";
  const PackedSeq seq = packedSamples({1, 2, 63, 64, 65, 130, 300, 700});
  const size_t n = static_cast<size_t>(seq.tokens() * heads * hd);
  std::mt19937 rng(11);
  auto rounded = [&](float scale) {
    std::vector<float> x = randomRows(rng, n, scale);
    for (float& v : x) v = roundToBf16(v);
    return x;
  };
  const auto q = rounded(1.5f), k = rounded(1.5f), v = rounded(1.0f), g = rounded(1.0f);
  auto bits = [](const std::vector<float>& x) {
    std::vector<uint16_t> b(x.size());
    roundToBf16Bits(x.data(), b.data(), static_cast<int64_t>(x.size()));
    return b;
  };
  const auto qb = bits(q), kb = bits(k), vb = bits(v), gb = bits(g);
  std::vector<uint16_t> o(n, 0x7fc0), dq(n, 0x7fc0), dk(n, 0x7fc0), dv(n, 0x7fc0);  // NaN until written
  cpu::attentionBf16(qb.data(), kb.data(), vb.data(), o.data(), seq, heads, hd, mask, isa);
  cpu::attentionGradBf16(qb.data(), kb.data(), vb.data(), gb.data(), dq.data(), dk.data(), dv.data(), seq, heads, hd,
                         mask, isa);
  const auto qd = toDouble(q), kd = toDouble(k), vd = toDouble(v), gd = toDouble(g);
  std::vector<double> wo(n), wdq(n), wdk(n), wdv(n);
  ref::attention(qd.data(), kd.data(), vd.data(), wo.data(), seq, heads, hd, mask);
  ref::attentionGrad(qd.data(), kd.data(), vd.data(), gd.data(), wdq.data(), wdk.data(), wdv.data(), seq, heads, hd,
                     mask);
  EXPECT_LT(worstExcess(o, wo, 0x1p-7), 0);
  EXPECT_LT(worstExcess(dq, wdq, 0x1p-5), 0);
  EXPECT_LT(worstExcess(dk, wdk, 0x1p-5), 0);
  EXPECT_LT(worstExcess(dv, wdv, 0x1p-5), 0);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, AttentionKernelsBf16,
    testing::Combine(testing::Values(Case{MaskKind::PrefixLM, 4, 32}, Case{MaskKind::Causal, 2, 64},
                                     Case{MaskKind::Full, 3, 16}, Case{MaskKind::PrefixLM, 1, 128}),
                     testing::Values(cpu::TileIsa::Portable, cpu::TileIsa::Amx)));

// Generation's KV-cache attention: queries arriving a few at a time see what the full forward sees.
TEST(AttentionKernels, CachedQueriesMatchTheFullForward) {
  const int heads = 2, hd = 32, len = 300, prefix = 100;
  PackedSeq seq;
  seq.prefixLens = {prefix};
  seq.causalLens = {len - prefix};
  for (int i = 0; i < len; ++i) seq.positions.push_back(i);
  seq.build();
  const size_t n = static_cast<size_t>(len * heads * hd);
  std::mt19937 rng(3);
  const auto q = randomRows(rng, n, 1.5f), k = randomRows(rng, n, 1.5f), v = randomRows(rng, n, 1.0f);
  std::vector<float> full(n), cached(n);
  cpu::attention(q.data(), k.data(), v.data(), full.data(), seq, heads, hd, MaskKind::PrefixLM);
  // the prefix in one go, then the response 1, 2, 3, ... queries at a time
  for (int first = 0, step = prefix; first < len; first += step, step = std::min(len - first, first == 0 ? 1 : step + 1)) {
    const int rows = std::min(step, len - first);
    cpu::attentionCached(q.data() + first * heads * hd, k.data(), v.data(), cached.data() + first * heads * hd, first,
                         rows, prefix, heads, hd);
  }
  double worst = 0;
  for (size_t i = 0; i < n; ++i) worst = std::max(worst, static_cast<double>(std::abs(full[i] - cached[i])));
  EXPECT_LT(worst, 1e-5);
}

}  // namespace
}  // namespace hrmc::runtime
