#include <iostream>
#include <unistd.h>

#include "runtime/io/ArrayDir.h"
#include "tools/hrmc/Commands.h"

#include "runtime/Backends.h"
#include "runtime/train/TrainConfig.h"

namespace hrmc::cli {

void ModelOptions::add(CLI::App& cmd) {
  cmd.add_option("file", file, "the .hrm model file")->required();
  cmd.add_option("--preset,-p", preset, "named preset of config values (e.g. tiny, B, L, XL, XXL)");
  cmd.add_option("--set,-s", sets, "override a config value: --set hidden=256 (repeatable, applied last)")
      ->type_name("KEY=VALUE");
  cmd.add_option("--stdlib", stdlib, "folder searched by `import` (default: the stdlib this hrmc was built with, or $HRMC_STDLIB)");
}

bool ModelOptions::toFrontend(dsl::FrontendOptions& out) const {
  out.preset = preset;
  if (!stdlib.empty()) out.stdlibDirs = {stdlib};
  try {
    for (const std::string& s : sets) {
      auto [key, value] = parseSet(s);
      out.overrides.push_back({key, value});
    }
  } catch (const runtime::ConfigError& e) {
    std::cerr << "hrmc: error: " << e.what() << "\n";
    return false;
  }
  return true;
}

std::pair<std::string, std::string> parseSet(const std::string& s) {
  const size_t eq = s.find('=');
  if (eq == std::string::npos || eq == 0) throw runtime::ConfigError("--set expects KEY=VALUE, got '" + s + "'");
  return {s.substr(0, eq), s.substr(eq + 1)};
}

std::vector<std::string> backendChoices() { return {std::begin(runtime::kBackendNames), std::end(runtime::kBackendNames)}; }

int reportError(const std::exception& e) {
  std::cerr << "hrmc: error: " << e.what() << "\n";
  if (dynamic_cast<const runtime::DeviceUnavailable*>(&e)) return kNoDevice;
  return dynamic_cast<const runtime::IoError*>(&e) ? kIoError : kCompileError;
}

bool useColor() {
  const char* noColor = std::getenv("NO_COLOR");
  return isatty(STDERR_FILENO) && !(noColor && *noColor);
}

std::unique_ptr<dsl::FrontendResult> compileModel(const ModelOptions& opts) {
  dsl::FrontendOptions fo;
  if (!opts.toFrontend(fo)) return nullptr;
  auto r = dsl::runFrontend(opts.file, fo);
  r->diags.render(std::cerr, useColor());
  return r;
}

std::optional<CompiledModel> compileToHrm(const ModelOptions& opts, int& exitCode) {
  CompiledModel c;
  c.frontend = compileModel(opts);
  if (!c.frontend) {
    exitCode = kUsageError;
    return std::nullopt;
  }
  if (!c.frontend->ok()) {
    exitCode = c.frontend->program->rootUnreadable() ? kIoError : kCompileError;
    return std::nullopt;
  }
  if (!c.frontend->graph) {
    std::cerr << "hrmc: error: " << opts.file << " declares no model\n";
    exitCode = kCompileError;
    return std::nullopt;
  }
  std::string error;
  c.module = compiler::HrmModule::fromGraph(*c.frontend->graph, c.frontend->sources, error);
  if (!c.module || !c.module->runCleanupPipeline(error)) {
    std::cerr << "hrmc: error: " << error << "\n";
    exitCode = kCompileError;
    return std::nullopt;
  }
  return c;
}

CLI::Option* addPrecisionOption(CLI::App& cmd, std::string& choice, bool withAuto) {
  std::vector<std::string> choices{"fp32", "bf16"};
  if (withAuto) choices.insert(choices.begin(), "auto");
  choice = choices.front();
  return cmd.add_option("--precision", choice,
                 withAuto ? "auto (bf16 where the CPU multiplies bf16 natively: AMX-BF16, AVX512-BF16), fp32 or bf16 "
                            "(bf16 activations and states, fp32 master weights, HRM-TEXT.md §1.12)"
                          : "fp32, or bf16 (bf16 activations and states, fp32 master weights, HRM-TEXT.md §1.12)")
      ->check(CLI::IsMember(choices))
      ->capture_default_str();
}

std::optional<compiler::Precision> applyPrecision(compiler::HrmModule& module, const std::string& choice,
                                                  const runtime::Backend* backend, int& exitCode) {
  std::optional<compiler::Precision> p = compiler::parsePrecision(choice);
  try {
    if (!p) p = runtime::choosePrecision(choice, *backend);
  } catch (const std::exception& e) {
    exitCode = reportError(e);
    return std::nullopt;
  }
  std::string error;
  if (!module.setPrecision(*p, error)) {
    std::cerr << "hrmc: error: " << error << "\n";
    exitCode = kCompileError;
    return std::nullopt;
  }
  return p;
}

void GradOptions::add(CLI::App& cmd) {
  cmd.add_option("--bp-steps,-K", bpSteps, "credit window K: how many recurrent steps carry gradient (default: the model's max)");
  cmd.add_option("--remat", remat, "recompute this module's steps in the backward instead of keeping residuals "
                                   "(a module path such as model.L_level; repeatable)");
}

int GradOptions::resolveK(const dsl::ModelGraph& g) const {
  if (bpSteps > 0) return bpSteps;
  if (g.credit.declared) return g.credit.maxSteps;
  return std::max<int>(1, static_cast<int>(g.steps.size()));
}

}  // namespace hrmc::cli
