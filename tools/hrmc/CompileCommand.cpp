// `hrmc compile FILE --emit=STAGE`: run the pipeline up to a stage and print it.
//   ast      the parsed files and the resolved config
//   hrm-raw  the model lowered to the hrm dialect, before any pass
//   hrm      after the cleanup pipeline (canonicalize, CSE, dead-code removal)
#include <iostream>

#include "compiler/HrmModule.h"
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
  auto emit = std::make_shared<std::string>("hrm");
  auto noLocations = std::make_shared<bool>(false);
  auto printAfterAll = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("compile", "compile a .hrm file and print a pipeline stage");
  opts->add(*cmd);
  cmd->add_option("--emit", *emit,
                  "stage to print: ast (parsed files and resolved config), hrm-raw (lowered to the hrm dialect), "
                  "hrm (after canonicalize + CSE + DCE)")
      ->check(CLI::IsMember({"ast", "hrm-raw", "hrm"}))
      ->capture_default_str();
  cmd->add_flag("--no-locations", *noLocations, "print MLIR without the .hrm source location of each op");
  cmd->add_flag("--print-ir-after-all", *printAfterAll, "print the IR after every pass to stderr");
  cmd->callback([=, &exitCode] {
    auto fe = compileModel(*opts);
    if (!fe) {
      exitCode = kUsageError;
      return;
    }
    if (!fe->ok()) {
      exitCode = fe->program->rootUnreadable() ? kIoError : kCompileError;
      return;
    }
    if (*emit == "ast") {
      printAst(*fe);
      exitCode = kOk;
      return;
    }
    if (!fe->graph) {
      std::cerr << "hrmc: error: " << opts->file << " declares no model; --emit=" << *emit << " needs one\n";
      exitCode = kCompileError;
      return;
    }
    std::string error;
    auto module = compiler::HrmModule::fromGraph(*fe->graph, fe->sources, error);
    if (module && *emit == "hrm" && !module->runCleanupPipeline(error, *printAfterAll ? &std::cerr : nullptr))
      module.reset();
    if (!module) {
      std::cerr << "hrmc: error: " << error << "\n";
      exitCode = kCompileError;
      return;
    }
    std::cout << module->print(!*noLocations);
    exitCode = kOk;
  });
}

}  // namespace hrmc::cli
