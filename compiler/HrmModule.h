#pragma once
// An elaborated model as MLIR in the `hrm` dialect, behind an MLIR-free interface so that the CLI and
// the runtime's public headers need no MLIR includes. Owns its MLIRContext.
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "compiler/kernels/KernelProgram.h"
#include "compiler/precision/Precision.h"
#include "dsl/sema/ModelGraph.h"

namespace mlir {
class ModuleOp;
class MLIRContext;
}  // namespace mlir

namespace hrmc::compiler {

class HrmModule {
 public:
  ~HrmModule();

  // Lowers a ModelGraph into `forward` (tokens, packed sequence, weights → logits) and, when the model
  // takes token ids, `loss` (+ labels → loss, accuracy, exact accuracy), then verifies the module.
  // Returns null and sets `error` (with the verifier's diagnostics) on failure.
  static std::unique_ptr<HrmModule> fromGraph(const dsl::ModelGraph& graph, const dsl::SourceManager& sources,
                                              std::string& error);

  // The cleanup pipeline: canonicalization patterns, CSE and dead-code removal, then verification.
  // With `printAfterEach`, the IR after every pass goes to `dump` (like --mlir-print-ir-after-all).
  bool runCleanupPipeline(std::string& error, std::ostream* dump = nullptr);

  // Compiles the module for `p` (Precision::BF16: the bf16 pass of compiler/precision/, HRM-TEXT.md
  // §1.12); call before any train step is built. fp32 leaves the module as it is.
  bool setPrecision(Precision p, std::string& error);
  Precision precision() const;

  // The train step for credit window K (built on first use, then cached in the module): returns its
  // function name, or "" with `error` set. `remat` lists module paths (e.g. model.L_level) whose steps
  // recompute their forward in the backward instead of keeping residuals.
  std::string trainStep(int K, std::string& error, const std::vector<std::string>& remat = {});
  // The weights a train step returns gradients for, in result order after (loss, accuracy, exact).
  std::vector<std::string> gradientNames(const std::string& function) const;

  // A forward value the backward reads: kept alive from its definition to its last backward use.
  struct Residual {
    std::string producer;   // the op that computes it, e.g. "hrm.linear"
    std::string step;       // the step it belongs to ("L5:model.L_level"), or "" outside steps
    std::string type;       // e.g. tensor<?x512xf32>
    int64_t bytesPerToken;  // bytes per packed token (values without T are not counted)
  };
  std::vector<Residual> residuals(const std::string& function) const;

  // The weights and buffers `forward` takes, in argument order, with their initializers.
  struct WeightSpec {
    std::string name;            // reference name, e.g. lm_head.weight
    std::vector<int64_t> shape;
    bool trainable = true;       // false for buffers
    bool bf16 = false;           // stored as bfloat16 (zL_init)
    std::string init;            // trunc_normal | zeros | ones
    double stddev = 0;
  };
  std::vector<WeightSpec> weights() const;
  // The model's credit window as declared (min, max, warm-up); {0, 0, 0} when it declares none.
  struct Credit {
    int minSteps = 0, maxSteps = 0;
    double warmupRatio = 0;
    int recurrentSteps = 0;  // H and L steps of the unrolled recurrence
  };
  Credit credit() const;
  // The model's `objective`: true for response_only (loss on response tokens), false for all_tokens.
  bool responseOnly() const;

  // `function` compiled for `target` ("cpu"): split into kernel launches, the fused kernels through
  // the target-neutral kernel stages and the target's code generator (or from the kernel cache).
  // Built on first use, then cached in this module; null with `error` on failure.
  const CompiledProgram* compile(const std::string& function, const std::string& target, std::string& error);
  // A stage of the --emit ladder after `grad` for one function: "fused" (the launch list, and each
  // fused kernel as hrm ops with its source lines), "kernels" (after element-wise fusion, on tensors),
  // then the target's own stages (cpu: "llvm" optimised LLVM IR, "asm" host assembly). `kernel`
  // limits the output to one fused kernel ("" for all).
  bool printKernels(const std::string& function, const std::string& stage, const std::string& target,
                    const std::string& kernel, bool withLocations, std::string& out, std::string& error);

  // The module's text; with locations, each op ends in loc("file.hrm":line:col).
  std::string print(bool withLocations) const;
  // One function's text.
  std::string printFunction(const std::string& function, bool withLocations) const;

  mlir::ModuleOp module() const;
  mlir::MLIRContext& context() const;

 private:
  HrmModule();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hrmc::compiler
