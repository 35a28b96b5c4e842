#include "tools/hrmc/EmitLadder.h"

#include <algorithm>
#include <iostream>

#include "dsl/ast/AstPrinter.h"

namespace hrmc::cli {

namespace {

const std::vector<std::string> kCommonStages = {"ast", "hrm-raw", "hrm", "grad", "fused", "kernels"};

void printAst(const dsl::FrontendResult& fe) {
  for (const auto& scope : fe.program->scopes()) dsl::printAst(std::cout, *scope->file, fe.sources);
  if (fe.config.empty()) return;
  std::cout << "ResolvedConfig" << (fe.preset.empty() ? "" : " (preset " + fe.preset + ")") << "\n";
  for (const dsl::ConfigValue& c : fe.config)
    std::cout << "  " << c.name << ": " << c.type << " = " << c.text << "  (" << c.source << ")\n";
}

int failed(const std::string& error) {
  std::cerr << "hrmc: error: " << error << "\n";
  return kCompileError;
}

}  // namespace

std::vector<std::string> emitStages() {
  std::vector<std::string> all = kCommonStages;
  for (const compiler::TargetInfo& t : compiler::targets())
    for (const char* s : t.stages)
      if (std::find(all.begin(), all.end(), s) == all.end()) all.push_back(s);
  return all;
}

CLI::Option* EmitOptions::add(CLI::App& cmd, const std::string& defaultStage) {
  stage = defaultStage;
  std::vector<std::string> targetNames;
  for (const compiler::TargetInfo& t : compiler::targets()) targetNames.push_back(t.name);
  CLI::Option* o = cmd.add_option("--emit", stage,
                                  "stage to print: ast (parsed files, resolved config), hrm-raw (lowered to the hrm "
                                  "dialect), hrm (after canonicalize + CSE + DCE), grad (the train step at -K), fused "
                                  "(the launch list and each fused kernel as hrm ops), kernels (after element-wise "
                                  "fusion), then the target's: llvm (optimised LLVM IR), asm (host assembly) for cpu; cuda (the "
                                  "generated CUDA C), ptx (NVRTC's PTX) for cuda")
                       ->check(CLI::IsMember(emitStages()));
  if (!defaultStage.empty()) o->capture_default_str();
  cmd.add_option("--target", target, "code generator for the stages after kernels")
      ->check(CLI::IsMember(targetNames))
      ->capture_default_str();
  cmd.add_option("--arch", arch, "with --target cuda: the GPU architecture to compile for (sm_80, sm_90, ...; default sm_90)")
      ->check([](const std::string& a) {
        return a.rfind("sm_", 0) == 0 && a.size() > 3 ? std::string() : "an architecture is sm_XX, e.g. sm_80 or sm_90";
      });
  cmd.add_flag("--report", report,
               "with --target cuda: compile every kernel with NVRTC and print ptxas's registers, spills, shared memory "
               "and the occupancy per kernel");
  cmd.add_option("--function", function, "for fused and later stages: forward, loss, or train (the train step at -K)")
      ->capture_default_str();
  cmd.add_option("--kernel", kernel, "for fused and later stages: only this fused kernel (e.g. fused_3)");
  cmd.add_flag("--no-locations", noLocations, "print MLIR without the .hrm source location of each op");
  cmd.add_flag("--print-ir-after-all", printAfterAll, "print the IR after every pass of hrm and grad to stderr");
  addPrecisionOption(cmd, precision, /*withAuto=*/false);
  return o;
}

int emit(const ModelOptions& model, const GradOptions& grad, const EmitOptions& options) {
  EmitOptions e = options;
  if (e.report) e.stage = "report";  // after the kernels stage, like the target's own stages
  if (e.stage == "ast" || e.stage == "hrm-raw") {
    auto fe = compileModel(model);
    if (!fe) return kUsageError;
    if (!fe->ok()) return fe->program->rootUnreadable() ? kIoError : kCompileError;
    if (e.stage == "ast") {
      printAst(*fe);
      return kOk;
    }
    if (!fe->graph) return failed(model.file + " declares no model");
    std::string error;
    auto module = compiler::HrmModule::fromGraph(*fe->graph, fe->sources, error);
    if (!module) return failed(error);
    std::cout << module->print(!e.noLocations);
    return kOk;
  }
  int exitCode = kOk;
  auto c = compileToHrm(model, exitCode);
  if (!c || !applyPrecision(*c->module, e.precision, nullptr, exitCode)) return exitCode;
  std::string error;
  if (e.stage == "hrm") {
    if (e.printAfterAll) {  // rerun the pipeline from the raw IR with dumping on
      auto raw = compiler::HrmModule::fromGraph(*c->frontend->graph, c->frontend->sources, error);
      raw->runCleanupPipeline(error, &std::cerr);
    }
    std::cout << c->module->print(!e.noLocations);
    return kOk;
  }
  const int K = grad.resolveK(*c->frontend->graph);
  if (e.stage == "grad") {
    const std::string fn = c->module->trainStep(K, error, grad.remat);
    if (fn.empty() || !c->module->runCleanupPipeline(error, e.printAfterAll ? &std::cerr : nullptr)) return failed(error);
    std::cout << c->module->printFunction(fn, !e.noLocations);
    return kOk;
  }
  if ((!e.arch.empty() || e.report) && e.target != "cuda")
    return failed(std::string(e.report ? "--report" : "--arch") + " is for --target cuda");
  if (e.function != "train" && e.function != "forward" && e.function != "loss")
    return failed("--function is forward, loss or train, not '" + e.function + "'");
  const std::string fn = e.function == "train" ? c->module->trainStep(K, error, grad.remat) : e.function;
  if (fn.empty()) return failed(error);
  std::string text;
  const std::string target = e.arch.empty() ? e.target : e.target + ":" + e.arch;
  if (!c->module->printKernels(fn, e.stage, target, e.kernel, !e.noLocations, text, error)) return failed(error);
  std::cout << text;
  return kOk;
}

}  // namespace hrmc::cli
