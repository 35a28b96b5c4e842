#include "runtime/cpu/OpenBlasGemm.h"

#include <memory>

#include <cblas.h>

#include "runtime/cpu/ThreadPool.h"

namespace hrmc::runtime::cpu {

OpenBlasGemm::OpenBlasGemm() { openblas_set_num_threads(1); }

void OpenBlasGemm::linear(const float* x, const float* w, float* y, int64_t rows, int64_t in, int64_t out) {
  ThreadPool::instance().parallelFor(rows, 32, [&](int64_t r0, int64_t r1) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r1 - r0, out, in, 1.0f, x + r0 * in, in, w, in, 0.0f,
                y + r0 * out, out);
  });
}

void OpenBlasGemm::matmul(const float* a, const float* b, float* y, int64_t rows, int64_t k, int64_t n) {
  ThreadPool::instance().parallelFor(rows, 32, [&](int64_t r0, int64_t r1) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r1 - r0, n, k, 1.0f, a + r0 * k, k, b, n, 0.0f, y + r0 * n, n);
  });
}

void OpenBlasGemm::outerSum(const float* a, const float* b, float* y, int64_t rows, int64_t m, int64_t n) {
  ThreadPool& pool = ThreadPool::instance();
  const int64_t parts = pool.size();
  // A weight gradient sums over many more rows than it has elements: each thread sums a share of the
  // rows into its own partial product (OpenBLAS runs these long-k products faster than thin column
  // slices), and the partials are added. Large outputs split their columns instead (no partials).
  if (parts > 1 && m * n <= (1 << 20) && rows >= 64 * parts) {
    std::unique_ptr<float[]> partials(new float[(parts - 1) * m * n]);
    pool.parallelFor(parts, 1, [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) {
        const int64_t r0 = rows * p / parts, r1 = rows * (p + 1) / parts;
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, n, r1 - r0, 1.0f, a + r0 * m, m, b + r0 * n, n, 0.0f,
                    p == 0 ? y : partials.get() + (p - 1) * m * n, n);
      }
    });
    pool.parallelFor(m * n, 4096, [&](int64_t e0, int64_t e1) {
      for (int64_t p = 0; p < parts - 1; ++p) {
        const float* part = partials.get() + p * m * n;
        for (int64_t e = e0; e < e1; ++e) y[e] += part[e];
      }
    });
    return;
  }
  pool.parallelFor(n, 16, [&](int64_t c0, int64_t c1) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, c1 - c0, rows, 1.0f, a, m, b + c0, n, 0.0f, y + c0, n);
  });
}

}  // namespace hrmc::runtime::cpu
