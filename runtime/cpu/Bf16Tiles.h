#pragma once
// Small bf16 matrix products with fp32 accumulation, for attention's blocks (HRM-TEXT.md §1.12): the
// operands are packed into the layouts of Intel AMX tiles, and C (+)= A·B runs on AMX-BF16 where the
// CPU has it, otherwise on a portable loop over the same layouts (the same sums up to their order).
// Every product of two bf16 values is exact in fp32, so both differ from fp32 products of the rounded
// operands by summation order only.
//
// Layouts (all zero padded to the tile multiples below):
//   A  bf16 [mp][lda], row-major: element (i, k) at i·lda + k;
//   B  bf16 pairs [kp/2][ldb][2] ("VNNI"): element (k, j) at ((k/2)·ldb + j)·2 + k%2;
//   C  fp32 [mp][ldc]: element (i, j) at i·ldc + j.
#include <cstdint>

namespace hrmc::runtime::cpu {

enum class TileIsa { Portable, Amx };

// Amx where the CPU has AMX-BF16 and Linux grants this process the tile state (asked once); else Portable.
TileIsa bestTileIsa();

constexpr int64_t kTileRows = 16;   // rows of an A or C tile; columns of a B or C tile
constexpr int64_t kTileDepth = 32;  // bf16 elements of the reduction in one tile step
constexpr int64_t roundUp(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

// C[0, mp) × [0, np) = A·B, or += when `accumulate`; mp and np multiples of 16, kp of 32.
void tileProduct(TileIsa isa, const uint16_t* a, int64_t lda, const uint16_t* b, int64_t ldb, float* c, int64_t ldc,
                 int64_t mp, int64_t np, int64_t kp, bool accumulate);

// A from m rows of k values (row r at src + r·stride), rows [m, mp) and columns [k, lda) zero; fp32
// values are rounded to bf16 (nearest even).
void packA(const uint16_t* src, int64_t stride, int64_t m, int64_t k, uint16_t* a, int64_t lda, int64_t mp);
void packA(const float* src, int64_t stride, int64_t m, int64_t k, uint16_t* a, int64_t lda, int64_t mp);
// A = srcᵀ for src of `rows` rows of `cols` fp32 values: A has `cols` rows (zero to mp) of `rows`
// values (zero to lda), rounded to bf16.
void packATransposed(const float* src, int64_t stride, int64_t rows, int64_t cols, uint16_t* a, int64_t lda,
                     int64_t mp);
// B = src: k rows of n bf16 values, rows [k, kp) and columns [n, ldb) zero.
void packB(const uint16_t* src, int64_t stride, int64_t k, int64_t n, uint16_t* b, int64_t ldb, int64_t kp);
// B = srcᵀ: src has n rows of k bf16 values (keys' rows, for q·kᵀ); rows [k, kp) and columns [n, ldb) zero.
void packBTransposed(const uint16_t* src, int64_t stride, int64_t n, int64_t k, uint16_t* b, int64_t ldb, int64_t kp);

}  // namespace hrmc::runtime::cpu
