// The bf16 tile products (runtime/cpu/Bf16Tiles.h) against fp64 products of the same bf16 values, on
// every ISA this CPU has (the portable loop everywhere, AMX where present), with shapes that are and
// are not tile multiples, each packing form, and accumulation into an existing C.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "runtime/cpu/Bf16Tiles.h"
#include "runtime/tensor/Bf16.h"

namespace hrmc::runtime::cpu {
namespace {

std::vector<float> bf16Values(std::mt19937& rng, int64_t n) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(n);
  for (float& v : x) v = roundToBf16(normal(rng));
  return x;
}

std::vector<uint16_t> bits(const std::vector<float>& x) {
  std::vector<uint16_t> b(x.size());
  roundToBf16Bits(x.data(), b.data(), static_cast<int64_t>(x.size()));
  return b;
}

class Bf16Tiles : public testing::TestWithParam<TileIsa> {
 protected:
  void SetUp() override {
    if (GetParam() == TileIsa::Amx && bestTileIsa() != TileIsa::Amx) GTEST_SKIP() << "this CPU has no AMX-BF16";
  }
};

// C = A·B (+ the C it had) for A m×k and B k×n, with A and B packed from each of their source forms.
TEST_P(Bf16Tiles, ProductsEqualTheFp64ProductOfTheBf16Values) {
  struct Shape {
    int64_t m, k, n;
  };
  for (const Shape s : {Shape{16, 32, 16}, Shape{64, 64, 256}, Shape{7, 40, 33}, Shape{50, 100, 70}, Shape{33, 17, 48}}) {
    std::mt19937 rng(static_cast<unsigned>(s.m * 1000 + s.k * 10 + s.n));
    const auto a = bf16Values(rng, s.m * s.k), b = bf16Values(rng, s.k * s.n), c0 = bf16Values(rng, s.m * s.n);
    std::vector<float> bT(s.n * s.k), aT(s.k * s.m);
    for (int64_t i = 0; i < s.k; ++i)
      for (int64_t j = 0; j < s.n; ++j) bT[j * s.k + i] = b[i * s.n + j];
    for (int64_t i = 0; i < s.m; ++i)
      for (int64_t j = 0; j < s.k; ++j) aT[j * s.m + i] = a[i * s.k + j];
    const int64_t mp = roundUp(s.m, kTileRows), np = roundUp(s.n, kTileRows), kp = roundUp(s.k, kTileDepth);
    const int64_t lda = kp + 32, ldb = np + 16, ldc = np + 16;  // pitches wider than the operands
    std::vector<uint16_t> pa(mp * lda), pb(kp * ldb);
    const auto ab = bits(a), bb = bits(b), bTb = bits(bT);
    for (int form = 0; form < 4; ++form) {
      SCOPED_TRACE("m " + std::to_string(s.m) + " k " + std::to_string(s.k) + " n " + std::to_string(s.n) + " form " +
                   std::to_string(form));
      if (form == 0) packA(ab.data(), s.k, s.m, s.k, pa.data(), lda, mp);
      if (form == 1) packA(a.data(), s.k, s.m, s.k, pa.data(), lda, mp);                  // from fp32
      if (form == 2) packATransposed(aT.data(), s.m, s.k, s.m, pa.data(), lda, mp);      // from Aᵀ
      if (form == 3) packA(ab.data(), s.k, s.m, s.k, pa.data(), lda, mp);
      if (form == 3)
        packBTransposed(bTb.data(), s.k, s.n, s.k, pb.data(), ldb, kp);  // from Bᵀ
      else
        packB(bb.data(), s.n, s.k, s.n, pb.data(), ldb, kp);
      std::vector<float> c(mp * ldc, 0.0f);
      for (int64_t i = 0; i < s.m; ++i)
        for (int64_t j = 0; j < s.n; ++j) c[i * ldc + j] = c0[i * s.n + j];
      const bool accumulate = form % 2 == 1;
      tileProduct(GetParam(), pa.data(), lda, pb.data(), ldb, c.data(), ldc, mp, np, kp, accumulate);
      double worst = 0;
      for (int64_t i = 0; i < s.m; ++i)
        for (int64_t j = 0; j < s.n; ++j) {
          double want = accumulate ? c0[i * s.n + j] : 0.0;
          for (int64_t x = 0; x < s.k; ++x) want += static_cast<double>(a[i * s.k + x]) * b[x * s.n + j];
          worst = std::max(worst, std::abs(c[i * ldc + j] - want));
        }
      // exact products, fp32 sums of ≤ 100 terms of size ~1: summation order only
      EXPECT_LT(worst, 1e-4);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, Bf16Tiles, testing::Values(TileIsa::Portable, TileIsa::Amx),
                         [](const testing::TestParamInfo<TileIsa>& i) {
                           return std::string(i.param == TileIsa::Amx ? "Amx" : "Portable");
                         });

}  // namespace
}  // namespace hrmc::runtime::cpu
