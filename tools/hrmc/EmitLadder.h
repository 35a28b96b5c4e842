#pragma once
// The one ordered --emit ladder of `hrmc compile` and `hrmc inspect`:
//   ast → hrm-raw → hrm → grad → fused → kernels → (the target's stages: cpu llvm → asm; cuda cuda → ptx)
// Each stage runs the pipeline up to it and prints its output.
#include <string>
#include <vector>

#include "tools/hrmc/Commands.h"

namespace hrmc::cli {

struct EmitOptions {
  std::string stage;
  std::string target = "cpu";
  std::string arch;                // cuda: sm_80, sm_90, ... ("" = sm_90)
  bool report = false;             // cuda: ptxas's registers, spills, shared memory and occupancy per kernel
  std::string function = "train";  // for fused and later: forward, loss or train (the train step at -K)
  std::string kernel;              // for fused and later: one fused kernel
  bool noLocations = false;
  bool printAfterAll = false;
  std::string precision;  // fp32 | bf16: stages from hrm on show the module compiled for it
  // Registers --emit, --target, --arch, --report, --function, --kernel, --no-locations,
  // --print-ir-after-all, --precision.
  CLI::Option* add(CLI::App& cmd, const std::string& defaultStage);
};

// Every stage, in order, for every target (the values --emit accepts).
std::vector<std::string> emitStages();
// Prints the stage to stdout (diagnostics to stderr); returns the exit status.
int emit(const ModelOptions& model, const GradOptions& grad, const EmitOptions& emit);

}  // namespace hrmc::cli
