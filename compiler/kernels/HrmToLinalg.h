#pragma once
// The first stage of the fused CPU/CUDA backends (issue 6): element-wise hrm ops become
// linalg.generic ops on tensors (so MLIR's element-wise fusion can merge chains of them), scalar
// constants become arith constants, reshape/slice/concat/pad become tensor-dialect ops. Other hrm
// ops are left for later stages. Internal to compiler/.
#include <memory>

#include "mlir/Pass/Pass.h"

namespace hrmc::compiler {

std::unique_ptr<mlir::Pass> createHrmToLinalgPass();

}  // namespace hrmc::compiler
