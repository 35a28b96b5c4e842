#pragma once
// The precision a module is compiled for, and the bf16 contract (HRM-TEXT.md §1.12) every backend
// implements: for each hrm op, the dtype its result is stored in under bf16 and what it computes in
// fp32. The bf16 pass (Bf16Precision.cpp) checks its output against this table, a test checks that
// every hrm op has a row and that the README shows the same table. MLIR-free.
#include <optional>
#include <string>

namespace hrmc::compiler {

enum class Precision { F32, BF16 };
const char* spell(Precision p);                                 // "fp32" | "bf16"
std::optional<Precision> parsePrecision(const std::string& s);  // "fp32" | "bf16"

struct OpPrecision {
  const char* op;        // hrm op name
  const char* stored;    // the result's dtype under bf16: "bf16" or "f32"
  const char* computes;  // what runs in fp32 inside the op, and where the result is rounded
};

// Every op, in HrmOps.td order. fp32 programs store every float value in f32. Under bf16, one kind
// of value is f32 whatever its op: a weight's gradient once widened (the converts to f32 and the adds
// that sum them), so that a weight used by several recurrent steps and micro-batches sums in fp32.
inline constexpr OpPrecision kBf16Contract[] = {
    {"constant", "f32", "a scalar keeps its exact value; it does not widen the tensor it meets"},
    {"embedding", "bf16", "gathers rows of the bf16 weight copy (no rounding)"},
    {"linear", "bf16", "products accumulate in fp32; rounded once when stored"},
    {"matmul", "bf16", "products accumulate in fp32; rounded once when stored"},
    {"add", "bf16", "fp32 from the exact operands; rounded once (residual and injection additions)"},
    {"sub", "bf16", "fp32 from the exact operands; rounded once"},
    {"mul", "bf16", "fp32 from the exact operands; rounded once"},
    {"div", "bf16", "fp32 from the exact operands; rounded once"},
    {"neg", "bf16", "exact"},
    {"sigmoid", "bf16", "fp32; rounded once"},
    {"silu", "bf16", "fp32 (its sigmoid too); rounded once"},
    {"exp", "bf16", "fp32; rounded once"},
    {"tanh", "bf16", "fp32; rounded once"},
    {"sqrt", "bf16", "fp32; rounded once"},
    {"stop_gradient", "bf16", "exact"},
    {"rms_norm", "bf16", "mean(x²), eps and the reciprocal root in fp32; rounded once"},
    {"rope", "bf16", "angles, sin, cos and the rotation in fp32; rounded once"},
    {"attention", "bf16", "scores and the online softmax in fp32; probabilities rounded to bf16 for their "
                          "product with v, summed in fp32; rounded once"},
    {"softmax", "bf16", "max, exp and sum in fp32; rounded once"},
    {"sum", "bf16", "fp32 accumulation; rounded once"},
    {"mean", "bf16", "fp32 accumulation; rounded once"},
    {"max", "bf16", "exact"},
    {"reshape", "bf16", "exact"},
    {"convert", "bf16", "fp32 → bf16 rounds to nearest even (master weights to their copies); bf16 → fp32 exact"},
    {"broadcast", "bf16", "exact"},
    {"slice", "bf16", "exact"},
    {"concat", "bf16", "exact"},
    {"cross_entropy", "f32", "log-sum-exp in fp32 from the bf16 logits; the loss stays fp32"},
    {"argmax_match", "f32", "compares the bf16 logits"},
    {"label_mean", "f32", "fp32 sums"},
    {"exact_match", "f32", "fp32"},
    {"outer_sum", "bf16", "a weight gradient per use: fp32 accumulation over tokens, rounded once; then widened "
                          "and summed in fp32 with the weight's other uses"},
    {"embedding_grad", "bf16", "fp32 scatter-add; rounded once; then summed in fp32 like outer_sum"},
    {"rms_norm_grad", "bf16", "statistics and the projection in fp32; rounded once"},
    {"attention_grad", "bf16", "recomputed scores, softmax and its gradient in fp32; both rounded to bf16 for "
                               "their products, summed in fp32; dq, dk, dv rounded once"},
    {"cross_entropy_grad", "bf16", "softmax − one-hot in fp32; rounded once"},
    {"label_mean_grad", "f32", "fp32"},
    {"unbroadcast", "bf16", "fp32 sums; rounded once"},
    {"max_grad", "bf16", "exact"},
    {"pad", "bf16", "exact"},
    {"yield", "bf16", "a recurrent step's new state (z_H, z_L)"},
    {"step", "bf16", "a recurrent step's new state (z_H, z_L)"},
};

const OpPrecision* findOpPrecision(const std::string& op);  // by hrm op name (without "hrm."), or null

}  // namespace hrmc::compiler
