#include "compiler/kernels/KernelFusion.h"

#include "compiler/MlirDiagnostics.h"
#include "compiler/kernels/HrmToLinalg.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

namespace hrmc::compiler {

void registerKernelDialects(mlir::MLIRContext& ctx) {
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  ctx.appendDialectRegistry(registry);
  ctx.loadAllAvailableDialects();
}

bool fuseKernels(mlir::ModuleOp kernels, std::string& error) {
  mlir::MLIRContext& ctx = *kernels.getContext();
  registerKernelDialects(ctx);
  DiagnosticCapture diagnostics(ctx);
  mlir::PassManager fuse(&ctx);
  fuse.addPass(createHrmToLinalgPass());
  fuse.addPass(mlir::createCanonicalizerPass());
  fuse.addPass(mlir::createLinalgElementwiseOpFusionPass());
  // No CSE here: it would merge the tensor.empty destinations of different results, and empty-tensor
  // elimination would then make two results share one output buffer.
  fuse.addPass(mlir::createCanonicalizerPass());
  if (mlir::failed(fuse.run(kernels))) {
    error = "fusing the kernels failed:\n" + diagnostics.text;
    return false;
  }
  return true;
}

bool bufferizeKernels(mlir::ModuleOp kernels, std::string& error) {
  mlir::MLIRContext& ctx = *kernels.getContext();
  DiagnosticCapture diagnostics(ctx);
  mlir::PassManager pm(&ctx);
  pm.addPass(mlir::bufferization::createEmptyTensorEliminationPass());
  mlir::bufferization::OneShotBufferizationOptions bufferization;
  bufferization.bufferizeFunctionBoundaries = true;
  bufferization.setFunctionBoundaryTypeConversion(mlir::bufferization::LayoutMapOption::IdentityLayoutMap);
  // Copies (of slices into outputs) as linalg.copy loops that a code generator vectorises, not calls to
  // the generic strided memrefCopy.
  bufferization.memCpyFn = [](mlir::OpBuilder& b, mlir::Location loc, mlir::Value from, mlir::Value to) {
    b.create<mlir::linalg::CopyOp>(loc, from, to);
    return mlir::success();
  };
  pm.addPass(mlir::bufferization::createOneShotBufferizePass(bufferization));
  pm.addPass(mlir::bufferization::createDropEquivalentBufferResultsPass());
  // Identical subviews become one value, and then copies of a piece onto itself (left where a piece
  // was computed straight into its destination) fold away.
  pm.addPass(mlir::createCSEPass());
  pm.addPass(mlir::createCanonicalizerPass());
  mlir::bufferization::BufferDeallocationPipelineOptions dealloc;
  mlir::bufferization::buildBufferDeallocationPipeline(pm, dealloc);
  pm.addPass(mlir::createBufferizationToMemRefPass());
  if (mlir::failed(pm.run(kernels))) {
    error = "bufferizing the kernels failed:\n" + diagnostics.text;
    return false;
  }
  return true;
}

}  // namespace hrmc::compiler
