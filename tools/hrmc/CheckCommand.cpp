// `hrmc check FILE`: parse, check and elaborate a model, then print its summary.
#include <iostream>

#include "dsl/report/ModelReport.h"
#include "tools/hrmc/Commands.h"

namespace hrmc::cli {

void addCheckCommand(CLI::App& app, int& exitCode) {
  auto opts = std::make_shared<ModelOptions>();
  CLI::App* cmd = app.add_subcommand("check", "check a .hrm file and print the model summary: parameters per "
                                              "module, recurrence schedule and credit window, FLOPs per token");
  opts->add(*cmd);
  auto explain = std::make_shared<bool>(false);
  cmd->add_flag("--explain-credit", *explain,
                "also explain how the credit window's split gives each recurrence level its steps at every K");
  cmd->callback([opts, explain, &exitCode] {
    auto fe = compileModel(*opts);
    if (!fe) {
      exitCode = kUsageError;
      return;
    }
    if (!fe->ok()) {
      exitCode = fe->program->rootUnreadable() ? kIoError : kCompileError;
      return;
    }
    if (fe->graph) {
      dsl::printCheckReport(std::cout, *fe, *explain);
    } else {
      const dsl::FileScope* root = fe->program->root();
      std::cout << opts->file << ": no model; " << root->modules.size() << " modules, " << root->fns.size()
                << " functions, " << root->enums.size() << " enums declared; checks clean\n";
    }
    exitCode = kOk;
  });
}

}  // namespace hrmc::cli
