#pragma once
// The work of a launch, for HRMC_DEBUG=1 lines and benchmarks: floating-point operations of the matrix
// products and attention (element-wise launches report bandwidth only).
#include <string>

#include "compiler/kernels/KernelProgram.h"
#include "runtime/batch/PackedBatch.h"
#include "runtime/exec/Device.h"

namespace hrmc::runtime {

// Query/key pairs that attend to each other over the samples of seq (the work of attention).
double attendedPairs(const PackedSeq& seq, compiler::MaskKind mask);

struct LaunchCost {
  double flops = 0;
  std::string dims;  // a matrix product's rows × inner × columns
};
LaunchCost launchCost(const LaunchArgs& args);

}  // namespace hrmc::runtime
