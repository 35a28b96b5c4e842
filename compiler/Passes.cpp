#include "compiler/Passes.h"

#include "compiler/autodiff/TrainStep.h"
#include "compiler/dialect/HrmDialect.h"
#include "compiler/kernels/HrmToLinalg.h"
#include "compiler/kernels/KernelFusion.h"
#include "compiler/kernels/KernelPartition.h"
#include "compiler/precision/Bf16Precision.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassRegistry.h"

namespace hrmc::compiler {

namespace {

struct TrainStepPass : mlir::PassWrapper<TrainStepPass, mlir::OperationPass<mlir::ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(TrainStepPass)
  TrainStepPass() = default;
  TrainStepPass(const TrainStepPass& other) : PassWrapper(other) {}
  llvm::StringRef getArgument() const override { return "hrm-train-step"; }
  llvm::StringRef getDescription() const override { return "build train_step_kK from loss under credit window K"; }
  Option<int> k{*this, "k", llvm::cl::desc("credit window K"), llvm::cl::init(1)};
  void runOnOperation() override {
    std::string error;
    if (!buildTrainStep(getOperation(), k, {}, error)) {
      getOperation().emitError(error);
      signalPassFailure();
    }
  }
};

struct Bf16PrecisionPass : mlir::PassWrapper<Bf16PrecisionPass, mlir::OperationPass<mlir::ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(Bf16PrecisionPass)
  llvm::StringRef getArgument() const override { return "hrm-bf16"; }
  llvm::StringRef getDescription() const override {
    return "bf16 mixed precision: bf16 weight copies, activations and states; fp32 losses and master weights";
  }
  void runOnOperation() override {
    std::string error;
    if (!applyBf16Precision(getOperation(), error)) {
      getOperation().emitError(error);
      signalPassFailure();
    }
  }
};

struct PartitionPass : mlir::PassWrapper<PartitionPass, mlir::OperationPass<mlir::ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(PartitionPass)
  PartitionPass() = default;
  PartitionPass(const PartitionPass& other) : PassWrapper(other) {}
  llvm::StringRef getArgument() const override { return "hrm-partition"; }
  llvm::StringRef getDescription() const override {
    return "replace the module by one function's fused kernels; the launch list becomes the module's hrm.launches attribute";
  }
  Option<std::string> function{*this, "function", llvm::cl::desc("the function to partition"), llvm::cl::init("forward")};
  void runOnOperation() override {
    mlir::ModuleOp module = getOperation();
    Partition p;
    std::string error;
    if (!partitionIntoKernels(module, function, p, error)) {
      module.emitError(error);
      signalPassFailure();
      return;
    }
    module.getBody()->clear();
    for (mlir::Operation& op : llvm::make_early_inc_range(*p.kernels->getBody())) {
      op.remove();
      module.getBody()->push_back(&op);
    }
    module->setAttr("hrm.launches", mlir::StringAttr::get(&getContext(), formatProgram(p.program)));
  }
};

struct FuseKernelsPass : mlir::PassWrapper<FuseKernelsPass, mlir::OperationPass<mlir::ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(FuseKernelsPass)
  llvm::StringRef getArgument() const override { return "hrm-fuse-kernels"; }
  llvm::StringRef getDescription() const override { return "the kernels stage: hrm → linalg, then element-wise fusion"; }
  void runOnOperation() override {
    std::string error;
    if (!fuseKernels(getOperation(), error)) {
      getOperation().emitError(error);
      signalPassFailure();
    }
  }
};

struct BufferizeKernelsPass : mlir::PassWrapper<BufferizeKernelsPass, mlir::OperationPass<mlir::ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(BufferizeKernelsPass)
  llvm::StringRef getArgument() const override { return "hrm-bufferize-kernels"; }
  llvm::StringRef getDescription() const override {
    return "the fused kernels on memrefs, what every code generator starts from";
  }
  void runOnOperation() override {
    std::string error;
    if (!bufferizeKernels(getOperation(), error)) {
      getOperation().emitError(error);
      signalPassFailure();
    }
  }
};

}  // namespace

void registerHrmDialects(mlir::DialectRegistry& registry) {
  registry.insert<hrm::HrmDialect>();
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
}

void registerHrmPasses() {
  mlir::PassRegistration<Bf16PrecisionPass>();
  mlir::PassRegistration<TrainStepPass>();
  mlir::PassRegistration<PartitionPass>();
  mlir::PassRegistration<FuseKernelsPass>();
  mlir::PassRegistration<BufferizeKernelsPass>();
  mlir::registerPass([] { return createHrmToLinalgPass(); });
}

}  // namespace hrmc::compiler
