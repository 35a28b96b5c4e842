// `hrmc compile FILE --emit=STAGE`: run the pipeline up to a stage of the --emit ladder and print it
// (EmitLadder.h).
#include "tools/hrmc/EmitLadder.h"

namespace hrmc::cli {

void addCompileCommand(CLI::App& app, int& exitCode) {
  auto opts = std::make_shared<ModelOptions>();
  auto grad = std::make_shared<GradOptions>();
  auto emitOpts = std::make_shared<EmitOptions>();
  CLI::App* cmd = app.add_subcommand("compile", "compile a .hrm file and print a pipeline stage");
  opts->add(*cmd);
  grad->add(*cmd);
  emitOpts->add(*cmd, "hrm");
  cmd->callback([=, &exitCode] { exitCode = emit(*opts, *grad, *emitOpts); });
}

}  // namespace hrmc::cli
