#include "compiler/codegen/CpuJit.h"

#include <cstring>
#include <thread>
#include <vector>

#include "compiler/MlirDiagnostics.h"
#include "compiler/codegen/HrmToLinalg.h"
#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/Transforms/Utils/SplitModule.h"
#include "llvm/Support/MemoryBuffer.h"
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

void initializeNativeTarget() {
  static const bool done = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    return true;
  }();
  (void)done;
}

void registerEverything(mlir::MLIRContext& ctx) {
  initializeNativeTarget();
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
  initializeNativeTarget();
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

namespace {

// `void _mlir_<f>(void** args)` for every C-interface function f: args[i] points at f's i-th
// argument (what MLIR's ExecutionEngine calls packing), so the runtime can call any kernel alike.
void addPackedWrappers(llvm::Module& module) {
  std::vector<llvm::Function*> targets;
  for (llvm::Function& f : module)
    if (!f.isDeclaration() && f.getName().starts_with("_mlir_ciface_")) targets.push_back(&f);
  llvm::LLVMContext& ctx = module.getContext();
  auto* ptr = llvm::PointerType::getUnqual(ctx);
  for (llvm::Function* f : targets) {
    llvm::IRBuilder<> b(ctx);
    auto* wrapper = llvm::Function::Create(llvm::FunctionType::get(b.getVoidTy(), {ptr}, false),
                                           llvm::GlobalValue::ExternalLinkage, "_mlir_" + f->getName(), module);
    b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", wrapper));
    std::vector<llvm::Value*> values;
    for (unsigned i = 0; i < f->arg_size(); ++i) {
      llvm::Value* slot = b.CreateLoad(ptr, b.CreateConstGEP1_64(ptr, wrapper->getArg(0), i));
      values.push_back(b.CreateLoad(f->getArg(i)->getType(), slot));
    }
    b.CreateCall(f, values);
    b.CreateRetVoid();
  }
}

// The kernels as LLVM IR for the host (with the packed wrappers), not yet optimised.
std::unique_ptr<llvm::Module> translate(mlir::ModuleOp kernels, llvm::TargetMachine& tm, llvm::LLVMContext& llvmContext,
                                        std::string& error) {
  std::unique_ptr<llvm::Module> ir = mlir::translateModuleToLLVMIR(kernels, llvmContext);
  if (!ir) {
    error = "translation to LLVM IR failed";
    return nullptr;
  }
  ir->setDataLayout(tm.createDataLayout());
  ir->setTargetTriple(tm.getTargetTriple().getTriple());
  addPackedWrappers(*ir);
  return ir;
}

bool optimise(llvm::Module& ir, llvm::TargetMachine& tm, std::string& error) {
  if (llvm::Error e = mlir::makeOptimizingTransformer(3, 0, &tm)(&ir)) {
    error = llvm::toString(std::move(e));
    return false;
  }
  return true;
}

// Machine code for the module: an object file or assembly text.
bool emit(llvm::Module& ir, llvm::TargetMachine& tm, llvm::CodeGenFileType type, std::string& out, std::string& error) {
  llvm::SmallVector<char, 0> buffer;
  llvm::raw_svector_ostream os(buffer);
  llvm::legacy::PassManager codegen;
  if (tm.addPassesToEmitFile(codegen, os, nullptr, type)) {
    error = "the host target cannot emit machine code";
    return false;
  }
  codegen.run(ir);
  out.assign(buffer.begin(), buffer.end());
  return true;
}

// An object bundle: [u64 count] then, per object, [u64 size][bytes].
std::string makeBundle(const std::vector<std::string>& objects) {
  std::string bundle;
  auto put = [&](uint64_t n) { bundle.append(reinterpret_cast<const char*>(&n), sizeof n); };
  put(objects.size());
  for (const std::string& o : objects) {
    put(o.size());
    bundle += o;
  }
  return bundle;
}

bool splitBundle(llvm::StringRef bundle, std::vector<llvm::StringRef>& objects) {
  uint64_t count = 0;
  if (bundle.size() < sizeof count) return false;
  std::memcpy(&count, bundle.data(), sizeof count);
  bundle = bundle.drop_front(sizeof count);
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t size = 0;
    if (bundle.size() < sizeof size) return false;
    std::memcpy(&size, bundle.data(), sizeof size);
    bundle = bundle.drop_front(sizeof size);
    if (bundle.size() < size) return false;
    objects.push_back(bundle.take_front(size));
    bundle = bundle.drop_front(size);
  }
  return bundle.empty();
}

}  // namespace

bool compileKernelsToObject(mlir::ModuleOp kernels, std::string& object, std::string& error) {
  std::unique_ptr<llvm::TargetMachine> tm = hostMachine(error);
  if (!tm) return false;
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> ir = translate(kernels, *tm, llvmContext, error);
  if (!ir) return false;
  // Optimising and generating code is most of the compile time: split the kernels into one module per
  // core (as bitcode, each thread parses it into its own LLVMContext) and compile them in parallel.
  const unsigned threads = std::max(1u, std::min(8u, std::thread::hardware_concurrency()));
  std::vector<std::string> parts;
  llvm::SplitModule(*ir, threads, [&](std::unique_ptr<llvm::Module> part) {
    std::string bitcode;
    llvm::raw_string_ostream os(bitcode);
    llvm::WriteBitcodeToFile(*part, os);
    os.flush();
    parts.push_back(std::move(bitcode));
  });
  std::vector<std::string> objects(parts.size()), errors(parts.size());
  std::vector<std::thread> workers;
  for (size_t i = 0; i < parts.size(); ++i)
    workers.emplace_back([&, i] {
      std::unique_ptr<llvm::TargetMachine> partTm = hostMachine(errors[i]);
      if (!partTm) return;
      llvm::LLVMContext ctx;
      auto module = llvm::parseBitcodeFile(llvm::MemoryBufferRef(parts[i], "kernels"), ctx);
      if (!module) {
        errors[i] = llvm::toString(module.takeError());
        return;
      }
      if (optimise(**module, *partTm, errors[i]))
        emit(**module, *partTm, llvm::CodeGenFileType::ObjectFile, objects[i], errors[i]);
    });
  for (std::thread& w : workers) w.join();
  for (const std::string& e : errors)
    if (!e.empty()) {
      error = e;
      return false;
    }
  object = makeBundle(objects);
  return true;
}

std::unique_ptr<JitModule> loadKernelObject(llvm::StringRef object, std::string& error) {
  initializeNativeTarget();
  auto jit = llvm::orc::LLJITBuilder().create();
  if (!jit) {
    error = llvm::toString(jit.takeError());
    return nullptr;
  }
  llvm::orc::JITDylib& lib = (*jit)->getMainJITDylib();
  const char prefix = (*jit)->getDataLayout().getGlobalPrefix();
  // The kernels call malloc/free/memset from the process and memrefCopy from MLIR's runner utilities.
  for (const char* library : {static_cast<const char*>(nullptr), HRMC_MLIR_C_RUNNER_UTILS}) {
    auto generator = library ? llvm::orc::DynamicLibrarySearchGenerator::Load(library, prefix)
                             : llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(prefix);
    if (!generator) {
      error = llvm::toString(generator.takeError());
      return nullptr;
    }
    lib.addGenerator(std::move(*generator));
  }
  std::vector<llvm::StringRef> objects;
  if (!splitBundle(object, objects)) {
    error = "malformed object bundle";
    return nullptr;
  }
  for (llvm::StringRef o : objects)
    if (llvm::Error e = (*jit)->addObjectFile(llvm::MemoryBuffer::getMemBufferCopy(o, "hrmc-kernels"))) {
      error = llvm::toString(std::move(e));
      return nullptr;
    }
  std::shared_ptr<llvm::orc::LLJIT> owner = std::move(*jit);
  llvm::orc::LLJIT* j = owner.get();
  return std::make_unique<JitModule>(owner, [j](const std::string& symbol) -> void* {
    auto address = j->lookup(symbol);
    if (!address) {
      llvm::consumeError(address.takeError());
      return nullptr;
    }
    return address->toPtr<void*>();
  });
}

bool translateKernels(mlir::ModuleOp kernels, bool assembly, std::string& out, std::string& error) {
  std::unique_ptr<llvm::TargetMachine> tm = hostMachine(error);
  if (!tm) return false;
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> ir = translate(kernels, *tm, llvmContext, error);
  if (!ir || !optimise(*ir, *tm, error)) return false;
  if (assembly) return emit(*ir, *tm, llvm::CodeGenFileType::AssemblyFile, out, error);
  llvm::raw_string_ostream os(out);
  ir->print(os, nullptr);
  return true;
}

}  // namespace hrmc::compiler
