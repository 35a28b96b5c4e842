#include "compiler/codegen/CpuJit.h"

#include "compiler/MlirDiagnostics.h"
#include "compiler/codegen/HrmToLinalg.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Transforms/Passes.h"

namespace hrmc::compiler {

namespace {

void registerEverything(mlir::MLIRContext& ctx) {
  static const bool nativeTarget = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    return true;
  }();
  (void)nativeTarget;
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerBuiltinDialectTranslation(registry);
  mlir::registerLLVMDialectTranslation(registry);
  ctx.appendDialectRegistry(registry);
  ctx.loadAllAvailableDialects();
}

// The host CPU as LLVM's target (AVX2/AVX-512 where present), optimising aggressively.
std::unique_ptr<llvm::TargetMachine> hostMachine(std::string& error) {
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder) {
    error = "cannot detect the host CPU: " + llvm::toString(builder.takeError());
    return nullptr;
  }
  builder->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  auto tm = builder->createTargetMachine();
  if (!tm) {
    error = "no LLVM target for the host CPU: " + llvm::toString(tm.takeError());
    return nullptr;
  }
  return std::move(*tm);
}


}  // namespace

bool lowerKernelsToLLVM(mlir::ModuleOp kernels, std::string& error, std::string* fusedLinalg) {
  mlir::MLIRContext& ctx = *kernels.getContext();
  registerEverything(ctx);
  DiagnosticCapture diagnostics(ctx);
  kernels.walk([&](mlir::func::FuncOp f) { f->setAttr("llvm.emit_c_interface", mlir::UnitAttr::get(&ctx)); });

  // On tensors: hrm → linalg, then merge producer/consumer loop nests.
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
  // exp/tanh as polynomials of arith ops: vectorisable, unlike calls into libm.
  mlir::RewritePatternSet approximations(&ctx);
  mlir::populateMathPolynomialApproximationPatterns(approximations);
  if (mlir::failed(mlir::applyPatternsAndFoldGreedily(kernels, std::move(approximations)))) {
    error = "approximating math functions failed";
    return false;
  }
  if (fusedLinalg) {
    llvm::raw_string_ostream os(*fusedLinalg);
    kernels.print(os);
  }

  mlir::PassManager pm(&ctx);
  // Results are written straight into the output buffers the runtime passes (the tensor.empty a result
  // is built in becomes its destination argument); what stays an intermediate buffer is freed at the
  // kernel's end.
  pm.addPass(mlir::bufferization::createEmptyTensorEliminationPass());
  mlir::bufferization::OneShotBufferizationOptions bufferization;
  bufferization.bufferizeFunctionBoundaries = true;
  bufferization.setFunctionBoundaryTypeConversion(mlir::bufferization::LayoutMapOption::IdentityLayoutMap);
  // Copies (of slices into outputs) as linalg.copy loops that LLVM vectorises, not calls to the
  // generic strided memrefCopy.
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
  pm.addPass(mlir::createConvertLinalgToLoopsPass());
  pm.addPass(mlir::memref::createExpandStridedMetadataPass());  // subviews and reshapes of memrefs
  pm.addPass(mlir::createLowerAffinePass());
  pm.addPass(mlir::createConvertSCFToCFPass());
  pm.addPass(mlir::createConvertMathToLLVMPass());
  pm.addPass(mlir::createConvertMathToLibmPass());
  pm.addPass(mlir::createArithToLLVMConversionPass());
  pm.addPass(mlir::createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(mlir::createConvertFuncToLLVMPass());
  pm.addPass(mlir::createConvertControlFlowToLLVMPass());
  pm.addPass(mlir::createReconcileUnrealizedCastsPass());
  if (mlir::failed(pm.run(kernels))) {
    error = "lowering the kernels to LLVM failed:\n" + diagnostics.text;
    return false;
  }
  // Every kernel argument is a distinct program value (its own arena slot, weight or batch array), so
  // the data pointers never alias: say so, and LLVM drops its runtime overlap checks and hoists loads
  // of scalars out of loops. A memref argument is (allocated, aligned, offset, sizes..., strides...):
  // the aligned pointer is every second pointer.
  kernels.walk([&](mlir::LLVM::LLVMFuncOp f) {
    if (f.isExternal() || !f.getName().starts_with("fused_")) return;
    int pointers = 0;
    for (unsigned i = 0; i < f.getNumArguments(); ++i)
      if (mlir::isa<mlir::LLVM::LLVMPointerType>(f.getArgument(i).getType()) && pointers++ % 2 == 1)
        f.setArgAttr(i, mlir::LLVM::LLVMDialect::getNoAliasAttrName(), mlir::UnitAttr::get(&ctx));
  });
  return true;
}

std::unique_ptr<JitModule> jitKernels(mlir::ModuleOp kernels, std::string& error, const std::string& objectFile) {
  std::unique_ptr<llvm::TargetMachine> tm = hostMachine(error);
  if (!tm) return nullptr;
  mlir::ExecutionEngineOptions options;
  options.enableObjectDump = !objectFile.empty();
  options.transformer = mlir::makeOptimizingTransformer(3, 0, tm.get());
  options.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  // memref.copy of strided views calls memrefCopy from MLIR's C runner utilities.
  const llvm::StringRef runtimeLibs[] = {HRMC_MLIR_C_RUNNER_UTILS};
  options.sharedLibPaths = runtimeLibs;
  auto created = mlir::ExecutionEngine::create(kernels, options);
  if (!created) {
    error = "JIT compilation failed: " + llvm::toString(created.takeError());
    return nullptr;
  }
  std::shared_ptr<mlir::ExecutionEngine> engine = std::move(*created);
  mlir::ExecutionEngine* e = engine.get();
  auto jit = std::make_unique<JitModule>(engine, [e](const std::string& symbol) -> void* {
    auto address = e->lookup(symbol);
    if (!address) {
      llvm::consumeError(address.takeError());
      return nullptr;
    }
    return *address;
  });
  if (!objectFile.empty()) {
    // ORC compiles the module on its first lookup; then its object code can be written out.
    bool any = false;
    kernels.walk([&](mlir::LLVM::LLVMFuncOp f) {
      if (!any && f.getName().starts_with("_mlir_ciface_") && !f.isExternal())
        any = jit->kernel(f.getName().drop_front(13).str());
    });
    if (any) e->dumpToObjectFile(objectFile);
  }
  return jit;
}

bool translateKernels(mlir::ModuleOp kernels, bool assembly, std::string& out, std::string& error) {
  std::unique_ptr<llvm::TargetMachine> tm = hostMachine(error);
  if (!tm) return false;
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> ir = mlir::translateModuleToLLVMIR(kernels, llvmContext);
  if (!ir) {
    error = "translation to LLVM IR failed";
    return false;
  }
  ir->setDataLayout(tm->createDataLayout());
  ir->setTargetTriple(tm->getTargetTriple().getTriple());
  if (llvm::Error e = mlir::makeOptimizingTransformer(3, 0, tm.get())(ir.get())) {
    error = llvm::toString(std::move(e));
    return false;
  }
  llvm::raw_string_ostream os(out);
  if (!assembly) {
    ir->print(os, nullptr);
    return true;
  }
  llvm::SmallString<0> buffer;
  llvm::raw_svector_ostream asmStream(buffer);
  llvm::legacy::PassManager codegen;
  if (tm->addPassesToEmitFile(codegen, asmStream, nullptr, llvm::CodeGenFileType::AssemblyFile)) {
    error = "the host target cannot emit assembly";
    return false;
  }
  codegen.run(*ir);
  os << buffer;
  return true;
}

}  // namespace hrmc::compiler
