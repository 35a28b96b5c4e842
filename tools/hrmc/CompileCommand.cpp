// `hrmc compile FILE --emit=STAGE`: run the pipeline up to a stage and print it.
//   ast      the parsed files and the resolved config
//   hrm-raw  the model lowered to the hrm dialect, before any pass
//   hrm      after the cleanup pipeline (canonicalize, CSE, dead-code removal)
//   grad     the train step for credit window K (--bp-steps): forward-only steps, then the backward
//   linalg   element-wise ops lowered to linalg.generic (the first stage of the fused backends)
#include <iostream>

#include "dsl/ast/AstPrinter.h"
#include "tools/hrmc/Commands.h"

namespace hrmc::cli {

namespace {

void printAst(const dsl::FrontendResult& fe) {
  for (const auto& scope : fe.program->scopes()) dsl::printAst(std::cout, *scope->file, fe.sources);
  if (fe.config.empty()) return;
  std::cout << "ResolvedConfig" << (fe.preset.empty() ? "" : " (preset " + fe.preset + ")") << "\n";
  for (const dsl::ConfigValue& c : fe.config)
    std::cout << "  " << c.name << ": " << c.type << " = " << c.text << "  (" << c.source << ")\n";
}

}  // namespace

void addCompileCommand(CLI::App& app, int& exitCode) {
  auto opts = std::make_shared<ModelOptions>();
  auto grad = std::make_shared<GradOptions>();
  auto emit = std::make_shared<std::string>("hrm");
  auto noLocations = std::make_shared<bool>(false);
  auto printAfterAll = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("compile", "compile a .hrm file and print a pipeline stage");
  opts->add(*cmd);
  grad->add(*cmd);
  cmd->add_option("--emit", *emit,
                  "stage to print: ast (parsed files and resolved config), hrm-raw (lowered to the hrm dialect), "
                  "hrm (after canonicalize + CSE + DCE), grad (the train step at --bp-steps), "
                  "linalg (element-wise ops as linalg.generic; backend stage 1)")
      ->check(CLI::IsMember({"ast", "hrm-raw", "hrm", "grad", "linalg"}))
      ->capture_default_str();
  cmd->add_flag("--no-locations", *noLocations, "print MLIR without the .hrm source location of each op");
  cmd->add_flag("--print-ir-after-all", *printAfterAll, "print the IR after every pass to stderr");
  cmd->callback([=, &exitCode] {
    if (*emit == "ast") {
      auto fe = compileModel(*opts);
      exitCode = !fe ? kUsageError : fe->ok() ? kOk : fe->program->rootUnreadable() ? kIoError : kCompileError;
      if (exitCode == kOk) printAst(*fe);
      return;
    }
    if (*emit == "hrm-raw") {
      auto fe = compileModel(*opts);
      if (!fe || !fe->ok() || !fe->graph) {
        exitCode = !fe ? kUsageError : !fe->ok() && fe->program->rootUnreadable() ? kIoError : kCompileError;
        if (fe && fe->ok()) std::cerr << "hrmc: error: " << opts->file << " declares no model\n";
        return;
      }
      std::string error;
      auto module = compiler::HrmModule::fromGraph(*fe->graph, fe->sources, error);
      if (!module) {
        std::cerr << "hrmc: error: " << error << "\n";
        exitCode = kCompileError;
        return;
      }
      std::cout << module->print(!*noLocations);
      exitCode = kOk;
      return;
    }
    auto c = compileToHrm(*opts, exitCode);
    if (!c) return;
    if (*emit == "hrm") {
      if (*printAfterAll) {  // rerun the pipeline from the raw IR with dumping on
        std::string error;
        auto raw = compiler::HrmModule::fromGraph(*c->frontend->graph, c->frontend->sources, error);
        raw->runCleanupPipeline(error, &std::cerr);
      }
      std::cout << c->module->print(!*noLocations);
      exitCode = kOk;
      return;
    }
    std::string error;
    if (*emit == "linalg") {
      if (!c->module->lowerElementwiseToLinalg(error)) {
        std::cerr << "hrmc: error: " << error << "\n";
        exitCode = kCompileError;
        return;
      }
      std::cout << c->module->print(!*noLocations);
      exitCode = kOk;
      return;
    }
    const int K = grad->resolveK(*c->frontend->graph);
    const std::string fn = c->module->trainStep(K, error, grad->remat);
    if (fn.empty() || !c->module->runCleanupPipeline(error, *printAfterAll ? &std::cerr : nullptr)) {
      std::cerr << "hrmc: error: " << error << "\n";
      exitCode = kCompileError;
      return;
    }
    std::cout << c->module->printFunction(fn, !*noLocations);
    exitCode = kOk;
  });
}

}  // namespace hrmc::cli
