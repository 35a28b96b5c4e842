// hrmc: a JIT-compiled DSL engine for hierarchical recurrent language models.
#include <iostream>

#include "tools/hrmc/Commands.h"

int main(int argc, char** argv) {
  CLI::App app{"hrmc " HRMC_VERSION " — compile, train and inspect hierarchical recurrent language models (.hrm)"};
  app.set_version_flag("--version,-V", "hrmc " HRMC_VERSION);
  app.require_subcommand(1);
  app.footer(
      "Exit status: 0 success, 1 the input has errors (diagnostics on stderr), 2 bad command line, "
      "3 a file could not be read or written.\nRun `hrmc COMMAND --help` for a command's options.");
  int exitCode = hrmc::cli::kOk;
  hrmc::cli::addCheckCommand(app, exitCode);
  hrmc::cli::addCompileCommand(app, exitCode);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : hrmc::cli::kUsageError;
  }
  return exitCode;
}
