#pragma once
// The compiler's stages as MLIR passes, for `hrmc-opt` and pass tests on small .mlir inputs:
//   --hrm-bf16                bf16 mixed precision (compiler/precision/Bf16Precision.h)
//   --hrm-train-step=k=K      build train_step_kK from `loss` (autodiff under the credit window)
//   --hrm-to-linalg           element-wise hrm ops → linalg.generic, structural ops → tensor ops
//   --hrm-partition=function=F  replace the module by F's fused kernels (the launch list as a comment)
//   --hrm-fuse-kernels        the `kernels` stage: hrm → linalg and element-wise fusion
// Internal to compiler/ (includes MLIR).
namespace mlir {
class DialectRegistry;
}

namespace hrmc::compiler {

void registerHrmPasses();
// The hrm dialect and every dialect the kernel stages produce.
void registerHrmDialects(mlir::DialectRegistry& registry);

}  // namespace hrmc::compiler
