// The bf16 matrix products (runtime/exec/Gemm.h: bf16 inputs, fp32 sums, fp32 or bf16 output) against an fp64
// product of the same bf16 values, for oneDNN and for the widened fallback, on shapes that split
// unevenly over the thread pool. Tolerance per element: k · 2⁻²³ · Σ|aᵢ·bᵢ| (fp32 summation of k exact
// products in any order).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

#include "runtime/cpu/OneDnnGemm.h"
#include "runtime/cpu/WidenedBf16Gemm.h"
#include "runtime/data/Packing.h"
#include "runtime/tensor/HostTensor.h"

using namespace hrmc::runtime;

namespace {

std::vector<uint16_t> randomBf16(int64_t n, uint64_t seed) {
  SplitMix64 rng(seed);
  std::vector<uint16_t> out(n);
  for (uint16_t& b : out) b = toBf16Bits(static_cast<float>((rng.uniform() - 0.5) * 4));
  return out;
}

// y[i, j] = Σ_k A(i, k) B(k, j) in fp64 with its error bound, A and B given as element functions.
template <typename A, typename B>
void expectProduct(const std::vector<float>& y, int64_t m, int64_t k, int64_t n, A a, B b, const std::string& what) {
  double worst = 0;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double sum = 0, mag = 0;
      for (int64_t p = 0; p < k; ++p) {
        sum += double(a(i, p)) * b(p, j);
        mag += std::fabs(double(a(i, p)) * b(p, j));
      }
      const double err = std::fabs(y[i * n + j] - sum), bound = double(k) * std::ldexp(1.0, -23) * mag + 1e-30;
      ASSERT_LE(err, bound) << what << " at " << i << "," << j;
      worst = std::max(worst, err / bound);
    }
  EXPECT_GT(m * n, 0);
  std::cout << what << ": worst error " << worst << " of the bound\n";
}

void checkAll(Bf16Gemm& gemm) {
  for (auto [rows, in, out] : {std::tuple<int64_t, int64_t, int64_t>{77, 33, 19}, {300, 128, 96}, {1, 5, 3}}) {
    const std::vector<uint16_t> x = randomBf16(rows * in, 1), w = randomBf16(out * in, 2), b = randomBf16(in * out, 3),
                                g = randomBf16(rows * out, 4);
    auto f = [](const std::vector<uint16_t>& v, int64_t i) { return fromBf16Bits(v[i]); };
    const std::string shape = " " + std::to_string(rows) + "x" + std::to_string(in) + "x" + std::to_string(out);
    std::vector<float> y(rows * out, -1.0f);
    gemm.linear(x.data(), w.data(), y.data(), rows, in, out);
    expectProduct(y, rows, in, out, [&](int64_t r, int64_t i) { return f(x, r * in + i); },
                  [&](int64_t i, int64_t o) { return f(w, o * in + i); }, gemm.name() + " linear" + shape);
    std::fill(y.begin(), y.end(), -1.0f);
    gemm.matmul(x.data(), b.data(), y.data(), rows, in, out);
    expectProduct(y, rows, in, out, [&](int64_t r, int64_t i) { return f(x, r * in + i); },
                  [&](int64_t i, int64_t o) { return f(b, i * out + o); }, gemm.name() + " matmul" + shape);
    std::vector<float> z(in * out, -1.0f);  // Σ_r x[r, i] g[r, o]
    gemm.outerSum(x.data(), g.data(), z.data(), rows, in, out);
    expectProduct(z, in, rows, out, [&](int64_t i, int64_t r) { return f(x, r * in + i); },
                  [&](int64_t r, int64_t o) { return f(g, r * out + o); }, gemm.name() + " outer_sum" + shape);
    // bf16 results: the fp32 sums rounded once, so each within half a bf16 step (2⁻⁹ relative) of the
    // fp32 result, and exactly its rounding wherever the fp32 result is not near a rounding tie.
    auto expectRounded = [&](const std::vector<float>& sums, const std::vector<uint16_t>& bits, const std::string& what) {
      for (size_t i = 0; i < sums.size(); ++i)
        ASSERT_LE(std::fabs(fromBf16Bits(bits[i]) - sums[i]), std::ldexp(std::fabs(sums[i]), -8) + 1e-30) << what << " at " << i;
    };
    std::vector<uint16_t> yb(rows * out), zb(in * out);
    gemm.linear(x.data(), w.data(), yb.data(), rows, in, out);
    gemm.linear(x.data(), w.data(), y.data(), rows, in, out);
    expectRounded(y, yb, gemm.name() + " linear to bf16" + shape);
    gemm.matmul(x.data(), b.data(), yb.data(), rows, in, out);
    gemm.matmul(x.data(), b.data(), y.data(), rows, in, out);
    expectRounded(y, yb, gemm.name() + " matmul to bf16" + shape);
    gemm.outerSum(x.data(), g.data(), zb.data(), rows, in, out);
    expectRounded(z, zb, gemm.name() + " outer_sum to bf16" + shape);
  }
}

TEST(Bf16Gemm, OneDnnMatchesTheExactProduct) {
  std::string why;
  std::unique_ptr<Bf16Gemm> gemm = cpu::makeBf16Gemm(&why);
  if (!why.empty()) GTEST_SKIP() << "oneDNN has no bf16 product on this CPU: " << why;
  checkAll(*gemm);
  EXPECT_NE(gemm->name().find("oneDNN"), std::string::npos) << gemm->name();
}

// A second oneDNN GEMM in the same thread (a second CPU device: the bench's roof, one backend per
// test) runs natively too: every thread's oneDNN stream is made for one engine shared by all of
// them (with an engine of its own the second fell back to widened fp32 products).
TEST(Bf16Gemm, ASecondOneDnnGemmIsNativeToo) {
  std::string why;
  std::unique_ptr<Bf16Gemm> first = cpu::makeBf16Gemm(&why);
  if (!why.empty()) GTEST_SKIP() << "oneDNN has no bf16 product on this CPU: " << why;
  std::unique_ptr<Bf16Gemm> second = cpu::makeBf16Gemm(&why);
  EXPECT_EQ(why, "");
  EXPECT_NE(second->name().find("oneDNN"), std::string::npos) << second->name();
  checkAll(*second);
}

TEST(Bf16Gemm, WidenedFallbackMatchesTheExactProduct) {
  cpu::WidenedBf16Gemm gemm;
  checkAll(gemm);
}

// oneDNN reads ONEDNN_MAX_CPU_ISA when first used, so these need a process of their own (ctest
// runs each test in one).
bool setIsaBeforeFirstUse(const char* isa) {
  setenv("ONEDNN_MAX_CPU_ISA", isa, 1);
  return true;
}

TEST(Bf16Gemm, WithoutAvx512ItFallsBackToTheWidenedProduct) {
  setIsaBeforeFirstUse("AVX2");
  std::string why;
  std::unique_ptr<Bf16Gemm> gemm = cpu::makeBf16Gemm(&why);
  if (gemm->native()) GTEST_SKIP() << "oneDNN was used before this test in this process; run it alone";
  EXPECT_EQ(gemm->name(), "bf16 widened to fp32, OpenBLAS");
  EXPECT_NE(why.find("oneDNN cannot run a bf16 matrix product"), std::string::npos) << why;
  checkAll(*gemm);
}

TEST(Bf16Gemm, OnAvx512WithoutBf16OneDnnEmulatesIt) {
  setIsaBeforeFirstUse("AVX512_CORE");
  std::string why;
  std::unique_ptr<Bf16Gemm> gemm = cpu::makeBf16Gemm(&why);
  if (gemm->native()) GTEST_SKIP() << "oneDNN was used before this test in this process; run it alone";
  if (!why.empty()) GTEST_SKIP() << "this CPU has no AVX-512: " << why;
  checkAll(*gemm);
  EXPECT_EQ(gemm->name().find("avx512_core_bf16"), std::string::npos) << gemm->name();
}

}  // namespace
