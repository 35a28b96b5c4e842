// `hrmc compile FILE --emit=STAGE`: run the pipeline up to a stage and print it.
#include <iostream>

#include "dsl/ast/AstPrinter.h"
#include "tools/hrmc/Commands.h"

namespace hrmc::cli {

void addCompileCommand(CLI::App& app, int& exitCode) {
  auto opts = std::make_shared<ModelOptions>();
  auto emit = std::make_shared<std::string>("ast");
  CLI::App* cmd = app.add_subcommand("compile", "compile a .hrm file and print a pipeline stage");
  opts->add(*cmd);
  cmd->add_option("--emit", *emit, "stage to print: ast (the checked AST of the file and its imports, with the resolved config)")
      ->check(CLI::IsMember({"ast"}))
      ->capture_default_str();
  cmd->callback([opts, emit, &exitCode] {
    auto fe = compileModel(*opts);
    if (!fe) {
      exitCode = kUsageError;
      return;
    }
    if (!fe->ok()) {
      exitCode = fe->program->rootUnreadable() ? kIoError : kCompileError;
      return;
    }
    for (const auto& scope : fe->program->scopes()) dsl::printAst(std::cout, *scope->file, fe->sources);
    if (!fe->config.empty()) {
      std::cout << "ResolvedConfig" << (fe->preset.empty() ? "" : " (preset " + fe->preset + ")") << "\n";
      for (const dsl::ConfigValue& c : fe->config)
        std::cout << "  " << c.name << ": " << c.type << " = " << c.text << "  (" << c.source << ")\n";
    }
    exitCode = kOk;
  });
}

}  // namespace hrmc::cli
