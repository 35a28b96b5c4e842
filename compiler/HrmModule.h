#pragma once
// An elaborated model as MLIR in the `hrm` dialect, behind an MLIR-free interface so that the CLI and
// the runtime's public headers need no MLIR includes. Owns its MLIRContext.
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

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

  // The module's text; with locations, each op ends in loc("file.hrm":line:col).
  std::string print(bool withLocations) const;

  mlir::ModuleOp module() const;
  mlir::MLIRContext& context() const;

 private:
  HrmModule();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hrmc::compiler
