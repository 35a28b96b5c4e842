#pragma once
// A function of the model split into kernel launches (backend stage 3, issue 6): what a runtime needs
// to run it without MLIR. Target-neutral: the CPU backend JIT-compiles the fused kernels with LLVM and
// runs the library kernels with BLAS and its own loops; a CUDA backend would emit the same launches.
#include <cstdint>
#include <string>
#include <vector>

#include "dsl/sema/MaskKind.h"

namespace hrmc::compiler {

enum class ElementType { F32, BF16, I32 };

struct ProgramValue {
  std::vector<int64_t> shape;  // -1 for the packed-token dimension T (always the leading one)
  ElementType type = ElementType::F32;
  int argument = -1;           // the function argument it is, or -1 for values the program computes
  bool perToken() const { return !shape.empty() && shape[0] < 0; }
  // Elements for T packed tokens.
  int64_t elements(int64_t T) const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d < 0 ? T : d;
    return n;
  }
  int64_t elementBytes() const { return type == ElementType::BF16 ? 2 : 4; }
};

// The primitives that run as library kernels; everything else is fused into JIT-compiled kernels.
enum class LaunchKind {
  Fused,  // a JIT-compiled loop nest: `kernel` names it
  Linear, MatMul, OuterSum, Rope, Attention, AttentionGrad, CrossEntropy, CrossEntropyGrad, ArgmaxMatch,
  LabelMean, LabelMeanGrad, ExactMatch, EmbeddingGrad, RmsNormGrad, Unbroadcast, MaxGrad,
};
using MaskKind = dsl::MaskKind;

struct Launch {
  LaunchKind kind = LaunchKind::Fused;
  std::string kernel;                 // fused kernels: the compiled function's name
  std::vector<int> inputs, outputs;   // indices into KernelProgram::values
  bool rowParallel = false;           // fused kernels: every row of T can be computed on its own
  int ops = 0;                        // fused kernels: how many hrm ops it fuses
  // Library kernels' attributes.
  double eps = 0, theta = 0;
  bool inverse = false;
  MaskKind mask = MaskKind::PrefixLM;
  int64_t axis = 0, vocab = 0;
  std::string location;               // the .hrm source line(s) it came from
  std::string name() const;           // "linear", "attention_grad", or the fused kernel's name
};

struct KernelProgram {
  std::string function;
  std::vector<ProgramValue> values;
  std::vector<Launch> launches;
  std::vector<int> results;          // the function's results, in order
  std::vector<std::string> argumentNames;  // hrm.name of each function argument ("tokens", weight names)
  // Token inputs read by an embedding, with the table's vocabulary: checked before any launch.
  std::vector<std::pair<int, int64_t>> tokenChecks;
};

// The launch list as text, one launch per line: kernel, what it reads and writes, its source lines.
std::string formatProgram(const KernelProgram& program);

}  // namespace hrmc::compiler
