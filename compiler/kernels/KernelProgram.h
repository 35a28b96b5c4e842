#pragma once
// A function of the model split into kernel launches: what a runtime needs to run it without MLIR.
// Target-neutral: every target generates code for the same fused kernels and runs the same library
// launches with its own kernels (the CPU: LLVM-compiled loops, OpenBLAS and its own loops).
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

// Fused (a generated loop nest: `kernel` names it) or one of the library kernels of LibraryLaunches.def.
enum class LaunchKind {
  Fused,
#define HRMC_LIBRARY_LAUNCH(Kind, name, HrmOp) Kind,
#include "compiler/kernels/LibraryLaunches.def"
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

// A function compiled for a target: the launch list and the target's code for its fused kernels (cpu:
// an object bundle), what a runtime loads.
struct CompiledProgram {
  KernelProgram program;
  std::string target;
  std::string binary;
  bool fromCache = false;  // the binary came from the on-disk kernel cache
  std::string cacheMiss;   // otherwise, why not ("no entry", "checksum mismatch", ...)
  struct {
    double partition = 0, lowering = 0, codegen = 0;  // seconds spent in each compile stage
  } timings;
};

// The code generators (--target), each with the stages of the --emit ladder it prints after
// `kernels`. A target is named by itself ("cpu", "cuda") or, for CUDA, with its architecture
// ("cuda:sm_80"; plain "cuda" is sm_90).
struct TargetInfo {
  const char* name;
  std::vector<const char*> stages;
};
inline const std::vector<TargetInfo>& targets() {
  static const std::vector<TargetInfo> all = {{"cpu", {"llvm", "asm"}}, {"cuda", {"cuda", "ptx"}}};
  return all;
}
// The target named `name` (an architecture after ':' ignored), or null.
inline const TargetInfo* findTarget(const std::string& name) {
  const std::string base = name.substr(0, name.find(':'));
  for (const TargetInfo& t : targets())
    if (base == t.name) return &t;
  return nullptr;
}

}  // namespace hrmc::compiler
