#include "compiler/HrmModule.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <map>
#include <ostream>
#include <set>

#include "llvm/ADT/DenseSet.h"

#include "compiler/autodiff/TrainStep.h"
#include "compiler/codegen/Target.h"
#include "compiler/kernels/KernelFusion.h"
#include "compiler/DebugLevel.h"
#include "compiler/MlirDiagnostics.h"
#include "compiler/kernels/KernelCache.h"
#include "compiler/kernels/KernelPartition.h"
#include "compiler/lowering/GraphToHrm.h"
#include "compiler/precision/Bf16Precision.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

namespace hrmc::compiler {

struct HrmModule::Impl {
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  Credit credit;
  bool responseOnly = true;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<CompiledProgram>> compiled;  // by (function, target)
};

HrmModule::HrmModule() : impl_(std::make_unique<Impl>()) {
  impl_->context.loadDialect<hrm::HrmDialect, mlir::func::FuncDialect>();
}
HrmModule::~HrmModule() = default;

mlir::ModuleOp HrmModule::module() const { return *impl_->module; }
mlir::MLIRContext& HrmModule::context() const { return impl_->context; }


std::unique_ptr<HrmModule> HrmModule::fromGraph(const dsl::ModelGraph& graph, const dsl::SourceManager& sources,
                                                std::string& error) {
  std::unique_ptr<HrmModule> m(new HrmModule());
  mlir::OpBuilder b(&m->impl_->context);
  m->impl_->module = mlir::ModuleOp::create(b.getUnknownLoc(), llvm::StringRef(graph.name));
  DiagnosticCapture capture(m->impl_->context);
  if (!lowerGraph(graph, sources, *m->impl_->module, error) || mlir::failed(mlir::verify(*m->impl_->module))) {
    if (error.empty()) error = "the lowered module does not verify:\n" + capture.text;
    return nullptr;
  }
  if (graph.credit.declared)
    m->impl_->credit = {graph.credit.minSteps, graph.credit.maxSteps, graph.credit.warmupRatio, 0};
  m->impl_->credit.recurrentSteps = static_cast<int>(graph.steps.size());
  m->impl_->responseOnly = graph.objective == dsl::Objective::ResponseOnly;
  return m;
}

bool HrmModule::runCleanupPipeline(std::string& error, std::ostream* dump) {
  mlir::PassManager pm(&impl_->context);
  pm.addPass(mlir::createCanonicalizerPass());
  pm.addPass(mlir::createCSEPass());
  pm.addPass(mlir::createSymbolDCEPass());
  std::string dumped;
  llvm::raw_string_ostream dumpStream(dumped);
  if (dump) {
    impl_->context.disableMultithreading();
    pm.enableIRPrinting([](mlir::Pass*, mlir::Operation*) { return false; },
                        [](mlir::Pass*, mlir::Operation*) { return true; },
                        /*printModuleScope=*/true, /*printAfterOnlyOnChange=*/false,
                        /*printAfterOnlyOnFailure=*/false, dumpStream);
  }
  DiagnosticCapture capture(impl_->context);
  const bool ok = mlir::succeeded(pm.run(*impl_->module));
  if (dump) *dump << dumped;
  if (!ok) error = "the cleanup pipeline failed:\n" + capture.text;
  return ok;
}

bool HrmModule::setPrecision(Precision p, std::string& error) {
  if (p == precision()) return true;
  if (p == Precision::F32) {
    error = "a bf16 module cannot go back to fp32";
    return false;
  }
  DiagnosticCapture capture(impl_->context);
  if (!applyBf16Precision(*impl_->module, error)) {
    if (!capture.text.empty()) error += "\n" + capture.text;
    return false;
  }
  return runCleanupPipeline(error);
}

Precision HrmModule::precision() const {
  return (*impl_->module)->hasAttr(kPrecisionAttr) ? Precision::BF16 : Precision::F32;
}

std::string HrmModule::trainStep(int K, std::string& error, const std::vector<std::string>& remat) {
  DiagnosticCapture capture(impl_->context);
  mlir::func::FuncOp fn = buildTrainStep(*impl_->module, K, std::set<std::string>(remat.begin(), remat.end()), error);
  if (!fn) {
    if (!capture.text.empty()) error += "\n" + capture.text;
    return "";
  }
  if (precision() == Precision::BF16 && !checkBf16Contract(fn, error)) return "";
  return fn.getName().str();
}

std::vector<HrmModule::WeightSpec> HrmModule::weights() const {
  std::vector<WeightSpec> out;
  auto fn = impl_->module->lookupSymbol<mlir::func::FuncOp>(kForwardFn);
  if (!fn) return out;
  for (unsigned i = 0; i < fn.getNumArguments(); ++i) {
    auto init = fn.getArgAttrOfType<mlir::StringAttr>(i, kInitAttr);
    if (!init) continue;  // inputs and the packed sequence
    auto t = mlir::cast<mlir::RankedTensorType>(fn.getArgument(i).getType());
    WeightSpec w;
    w.name = fn.getArgAttrOfType<mlir::StringAttr>(i, kArgNameAttr).str();
    w.shape.assign(t.getShape().begin(), t.getShape().end());
    w.trainable = !fn.getArgAttr(i, kBufferAttr);
    w.bf16 = t.getElementType().isBF16();
    w.init = init.str();
    if (auto s = fn.getArgAttrOfType<mlir::FloatAttr>(i, kInitStdAttr)) w.stddev = s.getValueAsDouble();
    out.push_back(w);
  }
  return out;
}

HrmModule::Credit HrmModule::credit() const { return impl_->credit; }
bool HrmModule::responseOnly() const { return impl_->responseOnly; }

std::vector<std::string> HrmModule::gradientNames(const std::string& function) const {
  std::vector<std::string> names;
  auto fn = impl_->module->lookupSymbol<mlir::func::FuncOp>(function);
  if (!fn) return names;
  if (auto attr = fn->getAttrOfType<mlir::ArrayAttr>(kGradNamesAttr))
    for (mlir::Attribute a : attr) names.push_back(mlir::cast<mlir::StringAttr>(a).str());
  return names;
}

std::vector<HrmModule::Residual> HrmModule::residuals(const std::string& function) const {
  std::vector<Residual> out;
  auto fn = impl_->module->lookupSymbol<mlir::func::FuncOp>(function);
  if (!fn) return out;
  llvm::DenseSet<mlir::Value> seen;
  for (mlir::Operation& op : fn.front()) {
    if (!op.hasAttr(kBackwardAttr)) continue;
    for (mlir::Value v : op.getOperands()) {
      mlir::Operation* def = v.getDefiningOp();
      if ((def && def->hasAttr(kBackwardAttr)) || !seen.insert(v).second) continue;
      auto t = mlir::dyn_cast<mlir::RankedTensorType>(v.getType());
      if (!t || t.getRank() == 0 || !t.isDynamicDim(0)) continue;  // weights, scalars: not per token
      int64_t elems = 1;
      for (int64_t d : t.getShape().drop_front()) elems *= d;
      Residual r;
      r.producer = def ? def->getName().getStringRef().str() : "argument";
      if (def)
        if (auto tag = def->getAttrOfType<mlir::StringAttr>(kStepTagAttr)) r.step = tag.str();
      if (auto step = mlir::dyn_cast_or_null<hrm::StepOp>(def))
        r.step = (step.getLevel() + llvm::Twine(step.getIndex()) + ":" + step.getCallee() + " (forward-only output)").str();
      std::string s;
      llvm::raw_string_ostream os(s);
      t.print(os);
      r.type = s;
      r.bytesPerToken = elems * static_cast<int64_t>(t.getElementTypeBitWidth() / 8);
      out.push_back(r);
    }
  }
  return out;
}

namespace {

std::vector<std::string> fusedKernelNames(const KernelProgram& program) {
  std::set<std::string> names;
  for (const Launch& l : program.launches)
    if (l.kind == LaunchKind::Fused) names.insert(l.kernel);
  return {names.begin(), names.end()};
}

}  // namespace

const CompiledProgram* HrmModule::compile(const std::string& function, const std::string& targetName, std::string& error) {
  auto& slot = impl_->compiled[{function, targetName}];
  if (slot) return slot.get();
  std::unique_ptr<Target> target = makeTarget(targetName, error);
  if (!target) return nullptr;
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  Partition partition;
  if (!partitionIntoKernels(*impl_->module, function, partition, error)) return nullptr;
  const auto t1 = Clock::now();
  // HRMC_DEBUG=2 prints each distinct fused kernel as it is compiled (hrm ops with their .hrm lines).
  if (debugLevel() >= 2) {
    std::string text;
    llvm::raw_string_ostream os(text);
    partition.kernels->print(os, mlir::OpPrintingFlags().enableDebugInfo(/*enable=*/true, /*prettyForm=*/true));
    std::fprintf(stderr, "[hrmc] kernels of %s:\n%s\n", function.c_str(), text.c_str());
  }
  auto compiled = std::make_unique<CompiledProgram>();
  compiled->target = targetName;
  const std::vector<std::string> kernels = fusedKernelNames(partition.program);
  const std::string cacheDir = kernelCacheDir();  // storing an entry creates the folder
  const std::string cachePath = cacheDir.empty() ? "" : kernelCachePath(cacheDir, *partition.kernels, target->cacheKey());
  std::string why;
  if (!cachePath.empty() && loadCachedBinary(cachePath, compiled->binary, why))
    compiled->fromCache = target->definesKernels(compiled->binary, kernels, why);  // never trust a partial entry
  if (!compiled->fromCache && !cachePath.empty()) compiled->cacheMiss = why;
  auto t2 = Clock::now();
  // HRMC_ASSERT_NO_COMPILE=1: a warm-cache check, where compiling anything is the failure.
  if (!compiled->fromCache && std::getenv("HRMC_ASSERT_NO_COMPILE")) {
    error = "HRMC_ASSERT_NO_COMPILE is set, but '" + function + "' for " + target->name() + " is not in the kernel cache" +
            (cachePath.empty() ? " (the cache is off)" : " (" + why + ")");
    return nullptr;
  }
  if (!compiled->fromCache) {
    if (!fuseKernels(*partition.kernels, error) || !bufferizeKernels(*partition.kernels, error)) return nullptr;
    t2 = Clock::now();
    if (!target->generate(*partition.kernels, compiled->binary, error)) return nullptr;
    if (!target->definesKernels(compiled->binary, kernels, why)) {
      error = "the generated code lacks some of its kernels: " + why;
      return nullptr;
    }
    if (!cachePath.empty()) storeCachedBinary(compiled->binary, cachePath);
  }
  compiled->program = std::move(partition.program);
  const auto t3 = Clock::now();
  auto seconds = [](Clock::duration d) { return std::chrono::duration<double>(d).count(); };
  compiled->timings = {seconds(t1 - t0), seconds(t2 - t1), seconds(t3 - t2)};
  slot = std::move(compiled);
  return slot.get();
}

bool HrmModule::printKernels(const std::string& function, const std::string& stage, const std::string& targetName,
                             const std::string& kernel, bool withLocations, std::string& out, std::string& error) {
  std::unique_ptr<Target> target = makeTarget(targetName, error);
  if (!target) return false;
  Partition partition;
  if (!partitionIntoKernels(*impl_->module, function, partition, error)) return false;
  if (!kernel.empty()) {
    if (!partition.kernels->lookupSymbol(kernel)) {
      error = "'" + function + "' has no kernel '" + kernel + "' (kernels are fused_0 to fused_" +
              std::to_string(std::max<int64_t>(0, std::distance(partition.kernels->getBody()->begin(),
                                                                 partition.kernels->getBody()->end()) - 1)) + ")";
      return false;
    }
    for (mlir::Operation& op : llvm::make_early_inc_range(*partition.kernels->getBody()))
      if (mlir::cast<mlir::func::FuncOp>(op).getName() != kernel) op.erase();
  }
  mlir::OpPrintingFlags flags;
  if (withLocations) flags.enableDebugInfo(/*enable=*/true, /*prettyForm=*/true);
  llvm::raw_string_ostream os(out);
  if (stage == "fused") {
    if (kernel.empty()) os << formatProgram(partition.program) << "\n";
    partition.kernels->print(os, flags);
    return true;
  }
  if (!fuseKernels(*partition.kernels, error)) return false;
  if (stage == "kernels") {
    partition.kernels->print(os, flags);
    return true;
  }
  const std::vector<const char*>& tail = findTarget(targetName)->stages;
  const bool cudaReport = stage == "report" && findTarget(targetName)->name == std::string("cuda");  // not a stage
  if (!cudaReport && std::find_if(tail.begin(), tail.end(), [&](const char* s) { return stage == s; }) == tail.end()) {
    error = "the " + target->name() + " target has no stage '" + stage + "'";
    return false;
  }
  if (!bufferizeKernels(*partition.kernels, error)) return false;
  std::string text;
  if (!target->print(*partition.kernels, stage, text, error)) return false;
  os << text;
  return true;
}

std::string HrmModule::printFunction(const std::string& function, bool withLocations) const {
  auto fn = impl_->module->lookupSymbol<mlir::func::FuncOp>(function);
  if (!fn) return "";
  std::string s;
  llvm::raw_string_ostream os(s);
  mlir::OpPrintingFlags flags;
  if (withLocations) flags.enableDebugInfo(true, true);
  fn->print(os, flags);
  return s + "\n";
}

std::string HrmModule::print(bool withLocations) const {
  std::string s;
  llvm::raw_string_ostream os(s);
  mlir::OpPrintingFlags flags;
  if (withLocations) flags.enableDebugInfo(/*enable=*/true, /*prettyForm=*/true);
  impl_->module->print(os, flags);
  return s;
}

}  // namespace hrmc::compiler
