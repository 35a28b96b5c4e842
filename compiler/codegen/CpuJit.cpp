#include "compiler/codegen/CpuJit.h"

#include <cstdlib>

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/TargetSelect.h"

namespace hrmc::compiler {

JitFunction::JitFunction(std::unique_ptr<mlir::ExecutionEngine> engine, std::string symbol, int resultRank,
                         int resultElementBytes)
    : engine_(std::move(engine)), symbol_(std::move(symbol)), resultRank_(resultRank),
      resultElementBytes_(resultElementBytes) {}
JitFunction::~JitFunction() = default;

namespace {

// The memref descriptor of the C interface: {allocated, aligned, offset, sizes[rank], strides[rank]}.
std::vector<int64_t> descriptor(void* data, const std::vector<int64_t>& sizes) {
  std::vector<int64_t> d(3 + 2 * sizes.size());
  d[0] = reinterpret_cast<int64_t>(data);
  d[1] = reinterpret_cast<int64_t>(data);
  d[2] = 0;
  int64_t stride = 1;
  for (size_t i = sizes.size(); i-- > 0;) {
    d[3 + i] = sizes[i];
    d[3 + sizes.size() + i] = stride;
    stride *= sizes[i];
  }
  return d;
}

}  // namespace

std::unique_ptr<JitFunction> compileForCpu(mlir::ModuleOp source, const std::string& function, std::string& error) {
  static const bool nativeTarget = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    return true;
  }();
  (void)nativeTarget;
  mlir::MLIRContext& ctx = *source.getContext();
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerBuiltinDialectTranslation(registry);
  mlir::registerLLVMDialectTranslation(registry);
  ctx.appendDialectRegistry(registry);
  ctx.loadAllAvailableDialects();

  // A module with the one function, callable through the C interface.
  mlir::OwningOpRef<mlir::ModuleOp> module = mlir::ModuleOp::create(source.getLoc());
  auto fn = source.lookupSymbol<mlir::func::FuncOp>(function);
  if (!fn) {
    error = "no function '" + function + "'";
    return nullptr;
  }
  auto copy = fn.clone();
  copy->setAttr("llvm.emit_c_interface", mlir::UnitAttr::get(&ctx));
  copy.removeArgAttrsAttr();
  // The packed sequence has no lowering yet: it may only be passed when nothing reads it.
  for (unsigned i = copy.getNumArguments(); i-- > 0;)
    if (!mlir::isa<mlir::TensorType>(copy.getArgument(i).getType())) {
      if (!copy.getArgument(i).use_empty()) {
        error = "'" + function + "' uses the packed sequence (rope or attention), which has no CPU lowering yet";
        copy.erase();
        return nullptr;
      }
      copy.eraseArgument(i);
    }
  if (copy.getNumResults() != 1) {
    error = "'" + function + "' must return one tensor";
    copy.erase();
    return nullptr;
  }
  auto resultType = mlir::cast<mlir::RankedTensorType>(copy.getResultTypes()[0]);
  const int resultRank = static_cast<int>(resultType.getRank());
  const int resultBytes = static_cast<int>(resultType.getElementTypeBitWidth() / 8);
  module->push_back(copy);

  mlir::PassManager pm(&ctx);
  mlir::bufferization::OneShotBufferizationOptions bufferization;
  bufferization.bufferizeFunctionBoundaries = true;
  bufferization.setFunctionBoundaryTypeConversion(mlir::bufferization::LayoutMapOption::IdentityLayoutMap);
  pm.addPass(mlir::bufferization::createOneShotBufferizePass(bufferization));
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
  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler(&ctx, [&](mlir::Diagnostic& d) {
    llvm::raw_string_ostream os(diagnostics);
    os << d.getLocation() << ": " << d << "\n";
    return mlir::success();
  });
  if (mlir::failed(pm.run(*module))) {
    error = "lowering to LLVM failed (are all hrm ops lowered?):\n" + diagnostics;
    return nullptr;
  }
  mlir::ExecutionEngineOptions options;
  options.transformer = mlir::makeOptimizingTransformer(3, 0, nullptr);
  // memref.copy of strided views calls memrefCopy from MLIR's C runner utilities.
  const llvm::StringRef runtimeLibs[] = {HRMC_MLIR_C_RUNNER_UTILS};
  options.sharedLibPaths = runtimeLibs;
  auto engine = mlir::ExecutionEngine::create(*module, options);
  if (!engine) {
    std::string ir;
    llvm::raw_string_ostream os(ir);
    module->print(os);
    error = "JIT compilation failed: " + llvm::toString(engine.takeError()) + "\n" + diagnostics + ir.substr(0, 4000);
    return nullptr;
  }
  return std::make_unique<JitFunction>(std::move(*engine), "_mlir_ciface_" + function, resultRank, resultBytes);
}

bool JitFunction::call(const std::vector<Buffer>& args, Buffer& result, std::string& error) {
  std::vector<int64_t> out(3 + 2 * resultRank_, 0);
  std::vector<std::vector<int64_t>> descriptors;
  for (const Buffer& b : args) descriptors.push_back(descriptor(b.data, b.sizes));
  // The C interface takes a pointer to each descriptor, the result's first; the packed wrapper takes a
  // pointer to each of those pointers.
  std::vector<void*> pointers{out.data()};
  for (auto& d : descriptors) pointers.push_back(d.data());
  std::vector<void*> packed;
  for (void*& p : pointers) packed.push_back(&p);
  if (llvm::Error e = engine_->invokePacked(symbol_, packed)) {
    error = llvm::toString(std::move(e));
    return false;
  }
  // {allocated, aligned, offset, ...}: the data starts at aligned + offset; the allocation is what to free.
  result.allocation = reinterpret_cast<void*>(out[0]);
  result.data = reinterpret_cast<char*>(out[1]) + out[2] * resultElementBytes_;
  result.sizes.assign(out.begin() + 3, out.begin() + 3 + resultRank_);
  return true;
}

}  // namespace hrmc::compiler
