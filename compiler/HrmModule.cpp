#include "compiler/HrmModule.h"

#include <ostream>

#include "compiler/lowering/GraphToHrm.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

namespace hrmc::compiler {

struct HrmModule::Impl {
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
};

HrmModule::HrmModule() : impl_(std::make_unique<Impl>()) {
  impl_->context.loadDialect<hrm::HrmDialect, mlir::func::FuncDialect>();
}
HrmModule::~HrmModule() = default;

mlir::ModuleOp HrmModule::module() const { return *impl_->module; }
mlir::MLIRContext& HrmModule::context() const { return impl_->context; }

namespace {
// Collects MLIR diagnostics (verifier messages) into a string for the caller to report.
struct DiagnosticCapture {
  explicit DiagnosticCapture(mlir::MLIRContext& ctx) : handler(&ctx, [this](mlir::Diagnostic& d) {
    llvm::raw_string_ostream os(text);
    os << d.getLocation() << ": " << d << "\n";
    return mlir::success();
  }) {}
  std::string text;
  mlir::ScopedDiagnosticHandler handler;
};
}  // namespace

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

std::string HrmModule::print(bool withLocations) const {
  std::string s;
  llvm::raw_string_ostream os(s);
  mlir::OpPrintingFlags flags;
  if (withLocations) flags.enableDebugInfo(/*enable=*/true, /*prettyForm=*/true);
  impl_->module->print(os, flags);
  return s;
}

}  // namespace hrmc::compiler
