#pragma once
// The front end's output: a model elaborated for one resolved configuration. Modules are instantiated
// (weights have their reference names), functions inlined, stacks and the slow/fast recurrence
// unrolled (levels of any depth); every primitive operation is one Node with a static type (T, the packed-token count, is
// the only symbolic dimension), a source location and the recurrent step it belongs to.
// compiler/ lowers this 1:1 into the `hrm` dialect; dsl/ knows nothing of MLIR.
#include <cstdint>
#include <string>
#include <vector>

#include "dsl/sema/MaskKind.h"
#include "dsl/source/SourceManager.h"

namespace hrmc::dsl {

enum class DType { F32, BF16, I32 };
const char* spell(DType t);
// The one dtype promotion rule (sema's types and the hrm dialect's inferred types both use it): mixed
// precisions compute in the wider type, so bf16 with f32 gives f32.
inline DType promote(DType a, DType b) {
  if (a == b) return a;
  auto bits = [](DType t) { return t == DType::BF16 ? 16 : 32; };
  return bits(a) >= bits(b) ? a : b;
}
// Element-wise operands: a rank-0 operand (a constant, such as the 0.5 in `x * 0.5`) does not widen
// a tensor, as PyTorch's promotion treats zero-dim tensors: bf16 x * 0.5 stays bf16 (the op still
// computes with the constant's exact value, then rounds its bf16 result).
inline DType promoteElementwise(DType a, bool aScalar, DType b, bool bScalar) {
  if (aScalar != bScalar) return aScalar ? b : a;
  return promote(a, b);
}

constexpr int64_t kDimT = -1;  // the packed-token dimension

struct TensorType {
  DType dtype = DType::F32;
  std::vector<int64_t> dims;
  std::vector<std::string> names;  // the name each dimension was written with ("hidden"), or ""
  int64_t numelWithoutT() const;
  bool sameShape(const TensorType& o) const { return dims == o.dims; }
  std::string str() const;  // "[T, hidden=128] f32"
};


enum class OpKind {
  Input, Weight, Constant,
  Embedding, Linear, MatMul,
  Add, Sub, Mul, Div, Neg,
  Sigmoid, Silu, Exp, Tanh, Sqrt,
  RmsNorm, Rope, Attention, Softmax,
  Sum, Mean, Max,
  Reshape, Slice, Concat, Broadcast,
  CrossEntropy, StopGradient, Convert,
};
const char* spell(OpKind k);

struct Node {
  OpKind op;
  std::vector<int> inputs;
  TensorType type;
  Loc loc;
  int step = -1;          // index into ModelGraph::steps, or -1 outside any recurrent step
  std::string name;       // Input/Weight: its name
  int64_t axis = 0;       // Slice/Concat/Softmax/Sum/Mean/Max: the axis (non-negative)
  int64_t offset = 0;     // Slice: first index along axis
  double scalar = 0;      // Constant value; RmsNorm eps; Rope theta
  MaskKind mask = MaskKind::PrefixLM;  // Attention
  bool magicnorm = false; // RmsNorm at a recurrent module's exit
};

enum class InitKind { TruncNormal, Zeros, Ones };

struct Weight {
  std::string name;       // reference state_dict name, e.g. model.H_level.core.layers.0.attn.o_proj.weight
  TensorType type;
  bool trainable = true;  // false for buffers (zL_init)
  InitKind init = InitKind::TruncNormal;
  double stddev = 0;
  Loc loc;
  int node = -1;
};

// The loops enclosing a step, outermost first: each loop's level and its current iteration.
struct LoopPosition {
  std::string level;
  int iter = 0;
};

struct Step {
  std::string level;   // the level it belongs to: "H" (slow), "L" (fast) or a named level
  int levelIndex = 0;  // its index among that level's steps, counted over the whole recurrence
  std::vector<LoopPosition> loops;  // the enclosing recurrence loops, outermost first
  std::string state;   // the state variable it updates
  std::string callee;  // module path when the update is a direct module call
  Loc loc;
  int result = -1;     // node id of the new state value
};

// Warm-up deep credit assignment (HRM-TEXT.md §2): K = bp_steps ramps min→max over the first
// warmup fraction of training; the split (dsl/sema/CreditSplit.h) picks which steps run with gradient.
struct CreditWindow {
  bool declared = false;  // without a declaration every step carries gradient (full BPTT)
  int minSteps = 0;
  int maxSteps = 0;
  double warmupRatio = 0;
  std::vector<std::string> split;  // the declared split order over levels; empty: outermost level first
  Loc loc;
  Loc splitLoc;
};

enum class Objective { ResponseOnly, AllTokens };

struct ModelGraph {
  std::string name;
  Loc loc;
  std::vector<Node> nodes;
  std::vector<Weight> weights;
  std::vector<int> inputs;  // node ids of the entry point's inputs (tokens)
  int output = -1;          // node id of forward's result (logits)
  std::vector<Step> steps;
  // The recurrence's levels, outermost first (by nesting depth, then by first appearance): {"H", "L"}
  // for slow/fast loops. This is also the default split order.
  std::vector<std::string> levels;
  CreditWindow credit;
  Objective objective = Objective::ResponseOnly;
  MaskKind mask = MaskKind::PrefixLM;

  // Which steps run with gradient at credit window K (all of them when no window is declared).
  std::vector<bool> stepsWithGrad(int K) const;
  // Which nodes gradient reaches from the output at K: backwards through nodes of gradient-carrying
  // steps (and non-recurrent nodes), stopped by stop_gradient. A weight not reached gets no gradient.
  std::vector<bool> nodesWithGrad(int K) const;
  int countSteps(const std::string& level) const;
  const std::vector<std::string>& splitOrder() const { return credit.split.empty() ? levels : credit.split; }
  std::vector<std::string> stepLevels() const;  // each step's level, in program order
};

}  // namespace hrmc::dsl
