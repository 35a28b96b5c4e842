#pragma once
// The subcommands of `hrmc`. Each registers its options on a CLI11 subcommand and runs it.
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "compiler/HrmModule.h"
#include "dsl/sema/Sema.h"

namespace hrmc::runtime {
class Backend;
}

namespace hrmc::cli {

// Exit codes (documented in `hrmc --help` and the README).
enum ExitCode { kOk = 0, kCompileError = 1, kUsageError = 2, kIoError = 3, kNoDevice = 4 };

// Options every command that compiles a model shares: FILE, --preset, --set, --stdlib.
struct ModelOptions {
  std::string file;
  std::string preset;
  std::vector<std::string> sets;
  std::string stdlib;
  void add(CLI::App& cmd);
  // Parses --set k=v; on a malformed one prints an error and returns false.
  bool toFrontend(dsl::FrontendOptions& out) const;
};

// --set KEY=VALUE as a pair; throws runtime::ConfigError naming the malformed one.
std::pair<std::string, std::string> parseSet(const std::string& s);
// The backend names for --backend (runtime/Backends.h), as CLI11 choices.
std::vector<std::string> backendChoices();

// Runs the front end and prints its diagnostics to stderr. Null result means usage error.
std::unique_ptr<dsl::FrontendResult> compileModel(const ModelOptions& opts);
// Front end, lowering to hrm and the cleanup pipeline. On failure prints why, sets exitCode, returns null.
struct CompiledModel {
  std::unique_ptr<dsl::FrontendResult> frontend;
  std::unique_ptr<compiler::HrmModule> module;
};
std::optional<CompiledModel> compileToHrm(const ModelOptions& opts, int& exitCode);

// --precision (HRM-TEXT.md §1.12, compiler/precision/Precision.h): fp32 | bf16, and with `withAuto`
// also auto (the default: bf16 where the backend multiplies bf16 natively).
CLI::Option* addPrecisionOption(CLI::App& cmd, std::string& choice, bool withAuto);
// Compiles `module` for `choice` (auto decided by `backend`, which may be null only for fp32 or bf16).
// Returns the precision used, or nullopt after printing why (exitCode set).
std::optional<compiler::Precision> applyPrecision(compiler::HrmModule& module, const std::string& choice,
                                                  const runtime::Backend* backend, int& exitCode);

// Options of commands that differentiate: --bp-steps K and --remat MODULE.
struct GradOptions {
  int bpSteps = 0;  // 0: the model's largest credit window
  std::vector<std::string> remat;
  void add(CLI::App& cmd);
  int resolveK(const dsl::ModelGraph& g) const;
};
bool useColor();
// Prints an exception as "hrmc: error: ..." and returns its exit status: kIoError for a file that
// could not be read or written, kNoDevice for a backend that cannot run here, kCompileError for bad
// input (model, config, weights, data).
int reportError(const std::exception& e);

void addCheckCommand(CLI::App& app, int& exitCode);
void addCompileCommand(CLI::App& app, int& exitCode);
void addRunCommand(CLI::App& app, int& exitCode);
void addInspectCommand(CLI::App& app, int& exitCode);
void addTrainCommand(CLI::App& app, int& exitCode);
void addGenerateCommand(CLI::App& app, int& exitCode);
void addEvalCommand(CLI::App& app, int& exitCode);
void addBenchCommand(CLI::App& app, int& exitCode);

}  // namespace hrmc::cli
