// hrmc: a JIT-compiled DSL engine for hierarchical recurrent language models.
#include <malloc.h>

#include <algorithm>
#include <iostream>

#include "dsl/diag/Diagnostics.h"
#include "tools/hrmc/Commands.h"

int main(int argc, char** argv) {
  // Executors allocate many short-lived tensors of a few hundred KiB: keep them on the heap instead of
  // fresh mmaps, which cost a page fault per page on every allocation.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  CLI::App app{"hrmc " HRMC_VERSION " — compile, train and inspect hierarchical recurrent language models (.hrm)"};
  app.set_version_flag("--version,-V", "hrmc " HRMC_VERSION);
  app.require_subcommand(1);
  app.footer(
      "Exit status: 0 success, 1 the input (model, config, weights or data) has errors, 2 bad command line, "
      "3 a file could not be read or written, 4 the backend cannot run here (no GPU or driver), 130 interrupted (train writes a checkpoint first).\nRun `hrmc COMMAND --help` for a command's options.");
  int exitCode = hrmc::cli::kOk;
  hrmc::cli::addCheckCommand(app, exitCode);
  hrmc::cli::addCompileCommand(app, exitCode);
  hrmc::cli::addRunCommand(app, exitCode);
  hrmc::cli::addInspectCommand(app, exitCode);
  hrmc::cli::addTrainCommand(app, exitCode);
  hrmc::cli::addGenerateCommand(app, exitCode);
  hrmc::cli::addEvalCommand(app, exitCode);
  hrmc::cli::addBenchCommand(app, exitCode);
  // CLI11 reports an unknown command only as "a subcommand is required": name it and suggest one.
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands({})) names.push_back(sub->get_name());
  if (argc > 1 && argv[1][0] != '-' && std::find(names.begin(), names.end(), argv[1]) == names.end()) {
    std::cerr << "hrmc: error: unknown command '" << argv[1] << "'" << hrmc::dsl::didYouMean(argv[1], names)
              << "\nRun `hrmc --help` for the list of commands.\n";
    return hrmc::cli::kUsageError;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : hrmc::cli::kUsageError;
  }
  return exitCode;
}
