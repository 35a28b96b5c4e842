#include "compiler/codegen/cpu/CpuCodegen.h"

#include <algorithm>
#include <functional>
#include <set>
#include <string_view>

#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "compiler/MlirDiagnostics.h"
#include "compiler/codegen/cpu/ObjectBundle.h"
#include "llvm/Analysis/LoopInfo.h"
#include "llvm/IR/Dominators.h"
#include "llvm/Object/ObjectFile.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
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
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/ExecutionEngine/OptUtils.h"
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

void registerTranslations(mlir::MLIRContext& ctx) {
  initializeNativeTarget();
  mlir::DialectRegistry registry;
  mlir::registerBuiltinDialectTranslation(registry);
  mlir::registerLLVMDialectTranslation(registry);
  ctx.appendDialectRegistry(registry);
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

// Whether LLVM can round f32 to bf16 with one instruction here (AVX512-BF16's vcvtneps2bf16).
// Elsewhere it would call __truncsfbf2, which the JIT'd objects cannot link against, so the
// rounding is expanded into integer arithmetic (round to nearest even, NaN kept quiet) first.
// HRMC_CPU_EMULATE_BF16=1 forces the expansion, so both paths are tested on any CPU.
bool nativeBf16Conversion() {
  static const bool native = [] {  // asked once per process: every compile and cache key needs it
    if (const char* env = std::getenv("HRMC_CPU_EMULATE_BF16"); env && std::string(env) == "1") return false;
    const llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
    auto it = features.find("avx512bf16");
    return it != features.end() && it->getValue();
  }();
  return native;
}

// Bufferized kernels → the LLVM dialect: math approximations, loops, LLVM, noalias data pointers.
bool lowerKernelsToLLVM(mlir::ModuleOp kernels, std::string& error) {
  mlir::MLIRContext& ctx = *kernels.getContext();
  registerTranslations(ctx);
  DiagnosticCapture diagnostics(ctx);
  kernels.walk([&](mlir::func::FuncOp f) { f->setAttr("llvm.emit_c_interface", mlir::UnitAttr::get(&ctx)); });
  // exp/tanh as polynomials of arith ops: vectorisable, unlike calls into libm.
  mlir::RewritePatternSet approximations(&ctx);
  mlir::populateMathPolynomialApproximationPatterns(approximations);
  if (!nativeBf16Conversion()) mlir::arith::populateExpandBFloat16Patterns(approximations);
  if (mlir::failed(mlir::applyPatternsAndFoldGreedily(kernels, std::move(approximations)))) {
    error = "approximating math functions failed";
    return false;
  }
  mlir::PassManager pm(&ctx);
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

// Asks LLVM's loop vectorizer for full-width vectors (16 floats on AVX-512, 8 on AVX2) on each
// innermost loop of the kernels that sums nothing, so that no sum is reordered and results stay
// bit-identical. Its cost model otherwise leaves loops with exp polynomials and bf16 conversions at
// 4 lanes (measured: the SwiGLU backward at 6 GB/s).
void hintVectorWidth(llvm::Module& module, llvm::TargetMachine& tm) {
  const llvm::StringRef features = tm.getTargetFeatureString();
  const unsigned width = features.contains("+avx512f") ? 16 : features.contains("+avx2") ? 8 : 0;
  if (width == 0) return;
  llvm::LLVMContext& ctx = module.getContext();
  for (llvm::Function& f : module) {
    if (f.isDeclaration() || !f.getName().starts_with("fused_")) continue;
    llvm::DominatorTree dominators(f);
    llvm::LoopInfo loops(dominators);
    for (llvm::Loop* loop : loops.getLoopsInPreorder()) {
      if (!loop->isInnermost()) continue;
      // A sum is carried in a phi, or (as linalg's reductions lower) in memory at an address that
      // does not move with the loop.
      const bool carriesFloat = llvm::any_of(loop->getHeader()->phis(), [](const llvm::PHINode& phi) {
        return phi.getType()->getScalarType()->isFloatingPointTy();
      });
      // (The IR is not optimised yet, so an invariant address may still be computed inside the loop.)
      std::function<bool(const llvm::Value*)> invariant = [&](const llvm::Value* v) {
        const auto* i = llvm::dyn_cast<llvm::Instruction>(v);
        if (!i || !loop->contains(i)) return true;
        if (llvm::isa<llvm::PHINode>(i) || i->mayReadFromMemory()) return false;
        return llvm::all_of(i->operands(), [&](const llvm::Use& u) { return invariant(u.get()); });
      };
      const bool storesInPlace = llvm::any_of(loop->blocks(), [&](llvm::BasicBlock* block) {
        return llvm::any_of(*block, [&](const llvm::Instruction& i) {
          const auto* store = llvm::dyn_cast<llvm::StoreInst>(&i);
          return store && invariant(store->getPointerOperand());
        });
      });
      llvm::BasicBlock* latch = loop->getLoopLatch();
      if (carriesFloat || storesInPlace || !latch) continue;
      llvm::Metadata* widthHint[] = {llvm::MDString::get(ctx, "llvm.loop.vectorize.width"),
                                     llvm::ConstantAsMetadata::get(llvm::ConstantInt::get(llvm::Type::getInt32Ty(ctx), width))};
      llvm::Metadata* self[] = {nullptr, llvm::MDNode::get(ctx, widthHint)};
      llvm::MDNode* id = llvm::MDNode::getDistinct(ctx, self);
      id->replaceOperandWith(0, id);
      latch->getTerminator()->setMetadata(llvm::LLVMContext::MD_loop, id);
    }
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
  hintVectorWidth(*ir, tm);
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

// Kernels in the LLVM dialect → optimised LLVM IR (-O3, vectorised for the host CPU) → host object
// code, with a packed `void(void** args)` entry for each kernel. The kernels are compiled in parallel,
// one part per core: `object` is a bundle of their object files.
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
  object = joinSections(objects);
  return true;
}

// The optimised LLVM IR or the host assembly of kernels in the LLVM dialect.
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

std::string hostIdentity() {
  std::string id = llvm::sys::getHostCPUName().str();
  std::vector<std::string> on;
  for (const auto& f : llvm::sys::getHostCPUFeatures())
    if (f.getValue()) on.push_back(f.getKey().str());
  std::sort(on.begin(), on.end());
  for (const std::string& f : on) id += "," + f;
  return nativeBf16Conversion() ? id : id + ",emulated-bf16";
}

class CpuTarget : public Target {
 public:
  std::string name() const override { return "cpu"; }
  std::string cacheKey() const override { return "cpu:" + hostIdentity(); }
  bool generate(mlir::ModuleOp kernels, std::string& binary, std::string& error) const override {
    return lowerKernelsToLLVM(kernels, error) && compileKernelsToObject(kernels, binary, error);
  }
  bool definesKernels(const std::string& binary, const std::vector<std::string>& kernels,
                      std::string& why) const override {
    std::vector<std::string_view> objects;
    if (!splitSections(binary, objects)) {
      why = "a malformed object bundle";
      return false;
    }
    std::set<std::string> defined;
    for (std::string_view o : objects) {
      auto file = llvm::object::ObjectFile::createObjectFile(llvm::MemoryBufferRef(llvm::StringRef(o.data(), o.size()), "kernels"));
      if (!file) {
        why = "an unreadable object file: " + llvm::toString(file.takeError());
        return false;
      }
      for (const llvm::object::SymbolRef& sym : (*file)->symbols()) {
        auto flags = sym.getFlags();
        auto name = sym.getName();
        if (!flags || !name) {
          if (!flags) llvm::consumeError(flags.takeError());
          if (!name) llvm::consumeError(name.takeError());
          continue;
        }
        if (!(*flags & llvm::object::SymbolRef::SF_Undefined)) defined.insert(name->str());
      }
    }
    for (const std::string& k : kernels)
      if (!defined.count(packedEntrySymbol(k))) {
        why = "kernel '" + k + "' is missing";
        return false;
      }
    return true;
  }
  bool print(mlir::ModuleOp kernels, const std::string& stage, std::string& out, std::string& error) const override {
    return lowerKernelsToLLVM(kernels, error) && translateKernels(kernels, stage == "asm", out, error);
  }
};

}  // namespace

std::unique_ptr<Target> makeCpuTarget() { return std::make_unique<CpuTarget>(); }

}  // namespace hrmc::compiler
