#pragma once
// Attention over packed samples for the CPU backend: forward (a block of queries at a time against
// blocks of keys, online softmax), backward (recomputes a query block's probabilities), and the KV-cache
// form used by generation. The products are small OpenBLAS GEMMs in fp32 and bf16 tile products in bf16;
// (sample, head) pairs are spread over the thread pool. No T×T (or per-sample n×n) matrix is ever formed.
#include <cstdint>

#include "compiler/kernels/KernelProgram.h"
#include "runtime/batch/PackedBatch.h"
#include "runtime/cpu/Bf16Tiles.h"

namespace hrmc::runtime::cpu {

// q, k, v, o: [T, heads, hd]. Padding rows get zeros (HRM-TEXT.md §3.6 masks, as ref::attention).
void attention(const float* q, const float* k, const float* v, float* o, const PackedSeq& seq, int64_t heads,
               int64_t hd, compiler::MaskKind mask);
// Attention of `rows` new queries q ([rows, heads, hd], absolute positions first..first+rows-1) over
// cached keys and values [first + rows, heads, hd] that already hold the new ones: query position p
// sees keys [0, p < prefix ? prefix : p + 1) (PrefixLM; prefix 0 is causal).
void attentionCached(const float* q, const float* kc, const float* vc, float* o, int64_t first, int64_t rows,
                     int64_t prefix, int64_t heads, int64_t hd);
// dq, dk, dv (written, not accumulated) for output gradient dout; recomputes the probabilities.
void attentionGrad(const float* q, const float* k, const float* v, const float* dout, float* dq, float* dk, float* dv,
                   const PackedSeq& seq, int64_t heads, int64_t hd, compiler::MaskKind mask);

// The same in bf16 (HRM-TEXT.md §1.12): q, k, v, dout and the results bf16, the block products on bf16
// tiles with fp32 sums (Bf16Tiles.h), scores, softmax and its gradient in fp32, probabilities and the
// softmax gradient rounded to bf16 for their products; hd a multiple of 16.
void attentionBf16(const uint16_t* q, const uint16_t* k, const uint16_t* v, uint16_t* o, const PackedSeq& seq,
                   int64_t heads, int64_t hd, compiler::MaskKind mask, TileIsa isa);
void attentionGradBf16(const uint16_t* q, const uint16_t* k, const uint16_t* v, const uint16_t* dout, uint16_t* dq,
                       uint16_t* dk, uint16_t* dv, const PackedSeq& seq, int64_t heads, int64_t hd,
                       compiler::MaskKind mask, TileIsa isa);

}  // namespace hrmc::runtime::cpu
