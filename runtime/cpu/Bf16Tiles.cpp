#include "runtime/cpu/Bf16Tiles.h"

#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cpuid.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "runtime/tensor/Bf16.h"

namespace hrmc::runtime::cpu {

namespace {

// Linux keeps the AMX tile data out of a process's saved state until the process asks for it.
constexpr int kArchRequestXcompPerm = 0x1023;
constexpr int kXfeatureXtileData = 18;

bool cpuHasAmxBf16() {
  unsigned a, b, c, d;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  return ((d >> 22) & 1) && ((d >> 24) & 1);  // AMX-BF16, AMX-TILE
}

// The tile palette: tiles 0-3 hold a 32×32 block of C, 4-5 two A tiles, 6-7 two B tiles; each 16 rows
// of 64 bytes.
struct alignas(64) TileConfig {
  uint8_t palette = 1, startRow = 0;
  uint8_t reserved[14] = {};
  uint16_t bytesPerRow[16] = {};
  uint8_t rows[16] = {};
};

__attribute__((target("amx-tile,amx-bf16"))) void amxProduct(const uint16_t* a, int64_t lda, const uint16_t* b,
                                                              int64_t ldb, float* c, int64_t ldc, int64_t mp,
                                                              int64_t np, int64_t kp, bool accumulate) {
  TileConfig config;
  for (int t = 0; t < 8; ++t) {
    config.bytesPerRow[t] = 64;
    config.rows[t] = 16;
  }
  _tile_loadconfig(&config);
  const int64_t aPitch = lda * 2, bPitch = ldb * 4, cPitch = ldc * 4;  // bytes
  for (int64_t i = 0; i < mp; i += 32) {
    const bool twoRows = i + 16 < mp;
    for (int64_t j = 0; j < np; j += 32) {
      const bool twoCols = j + 16 < np;
      float* c00 = c + i * ldc + j;
      float* c10 = c00 + 16 * ldc;
      if (accumulate) {
        _tile_loadd(0, c00, cPitch);
        if (twoCols) _tile_loadd(1, c00 + 16, cPitch);
        if (twoRows) _tile_loadd(2, c10, cPitch);
        if (twoRows && twoCols) _tile_loadd(3, c10 + 16, cPitch);
      } else {
        _tile_zero(0);
        _tile_zero(1);
        _tile_zero(2);
        _tile_zero(3);
      }
      for (int64_t k = 0; k < kp; k += 32) {
        const uint16_t* ak = a + i * lda + k;
        const uint16_t* bk = b + (k / 2) * ldb * 2 + j * 2;
        _tile_loadd(4, ak, aPitch);
        _tile_loadd(6, bk, bPitch);
        _tile_dpbf16ps(0, 4, 6);
        if (twoCols) {
          _tile_loadd(7, bk + 32, bPitch);
          _tile_dpbf16ps(1, 4, 7);
        }
        if (twoRows) {
          _tile_loadd(5, ak + 16 * lda, aPitch);
          _tile_dpbf16ps(2, 5, 6);
          if (twoCols) _tile_dpbf16ps(3, 5, 7);
        }
      }
      _tile_stored(0, c00, cPitch);
      if (twoCols) _tile_stored(1, c00 + 16, cPitch);
      if (twoRows) _tile_stored(2, c10, cPitch);
      if (twoRows && twoCols) _tile_stored(3, c10 + 16, cPitch);
    }
  }
  _tile_release();
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void portableProduct(
    const uint16_t* a, int64_t lda, const uint16_t* b, int64_t ldb, float* c, int64_t ldc, int64_t mp, int64_t np,
    int64_t kp, bool accumulate) {
  for (int64_t i = 0; i < mp; ++i) {
    float* ci = c + i * ldc;
    if (!accumulate) std::fill_n(ci, np, 0.0f);
    for (int64_t k = 0; k < kp; k += 2) {
      const float a0 = fromBf16Bits(a[i * lda + k]), a1 = fromBf16Bits(a[i * lda + k + 1]);
      if (a0 == 0.0f && a1 == 0.0f) continue;  // padding, and masked probabilities
      const uint16_t* bk = b + (k / 2) * ldb * 2;
#pragma omp simd
      for (int64_t j = 0; j < np; ++j) ci[j] += a0 * fromBf16Bits(bk[2 * j]) + a1 * fromBf16Bits(bk[2 * j + 1]);
    }
  }
}

template <typename T>
void packRows(const T* src, int64_t stride, int64_t m, int64_t k, uint16_t* a, int64_t lda, int64_t mp) {
  for (int64_t i = 0; i < m; ++i) {
    if constexpr (sizeof(T) == 2)
      std::memcpy(a + i * lda, src + i * stride, k * sizeof(uint16_t));
    else
      roundToBf16Bits(src + i * stride, a + i * lda, k);
    std::fill(a + i * lda + k, a + (i + 1) * lda, uint16_t{0});
  }
  std::fill(a + m * lda, a + mp * lda, uint16_t{0});
}

}  // namespace

TileIsa bestTileIsa() {
  static const TileIsa isa = cpuHasAmxBf16() && syscall(SYS_arch_prctl, kArchRequestXcompPerm, kXfeatureXtileData) == 0
                                 ? TileIsa::Amx
                                 : TileIsa::Portable;
  return isa;
}

void tileProduct(TileIsa isa, const uint16_t* a, int64_t lda, const uint16_t* b, int64_t ldb, float* c, int64_t ldc,
                 int64_t mp, int64_t np, int64_t kp, bool accumulate) {
  if (isa == TileIsa::Amx)
    amxProduct(a, lda, b, ldb, c, ldc, mp, np, kp, accumulate);
  else
    portableProduct(a, lda, b, ldb, c, ldc, mp, np, kp, accumulate);
}

void packA(const uint16_t* src, int64_t stride, int64_t m, int64_t k, uint16_t* a, int64_t lda, int64_t mp) {
  packRows(src, stride, m, k, a, lda, mp);
}
void packA(const float* src, int64_t stride, int64_t m, int64_t k, uint16_t* a, int64_t lda, int64_t mp) {
  packRows(src, stride, m, k, a, lda, mp);
}

void packATransposed(const float* src, int64_t stride, int64_t rows, int64_t cols, uint16_t* a, int64_t lda,
                     int64_t mp) {
  std::fill(a, a + mp * lda, uint16_t{0});
  thread_local std::vector<uint16_t> row;  // a source row rounded (vectorised), then scattered
  row.resize(cols);
  for (int64_t r = 0; r < rows; ++r) {
    roundToBf16Bits(src + r * stride, row.data(), cols);
    for (int64_t c = 0; c < cols; ++c) a[c * lda + r] = row[c];
  }
}

void packB(const uint16_t* src, int64_t stride, int64_t k, int64_t n, uint16_t* b, int64_t ldb, int64_t kp) {
  std::fill(b, b + kp * ldb, uint16_t{0});
  for (int64_t r = 0; r < k; ++r) {
    uint16_t* out = b + (r / 2) * ldb * 2 + r % 2;
    const uint16_t* in = src + r * stride;
    for (int64_t j = 0; j < n; ++j) out[2 * j] = in[j];
  }
}

void packBTransposed(const uint16_t* src, int64_t stride, int64_t n, int64_t k, uint16_t* b, int64_t ldb, int64_t kp) {
  // Element pairs (src[j][2p], src[j][2p+1]) move together: a transpose of 32-bit words.
  std::fill(b, b + kp * ldb, uint16_t{0});
  for (int64_t j = 0; j < n; ++j) {
    const uint16_t* in = src + j * stride;
    for (int64_t p = 0; p < k / 2; ++p) std::memcpy(b + (p * ldb + j) * 2, in + 2 * p, 4);
    if (k % 2) b[((k / 2) * ldb + j) * 2] = in[k - 1];
  }
}

}  // namespace hrmc::runtime::cpu
