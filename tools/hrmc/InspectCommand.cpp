// `hrmc inspect FILE --residuals`: what the backward keeps alive from the forward, per step, in
// bytes per packed token, at credit window K (and with --remat, after recomputation).
// `hrmc inspect FILE --emit=fused|linalg|llvm|asm [--kernel NAME]`: the CPU backend's stages.
#include <cstdio>
#include <iostream>
#include <map>

#include "tools/hrmc/Commands.h"

namespace hrmc::cli {

void addInspectCommand(CLI::App& app, int& exitCode) {
  auto opts = std::make_shared<ModelOptions>();
  auto grad = std::make_shared<GradOptions>();
  auto residuals = std::make_shared<bool>(false);
  auto verbose = std::make_shared<bool>(false);
  auto emit = std::make_shared<std::string>();
  auto kernel = std::make_shared<std::string>();
  auto function = std::make_shared<std::string>("train");
  auto noLocations = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("inspect", "inspect a compiled model: residuals of the train step, or the CPU backend's kernels");
  opts->add(*cmd);
  grad->add(*cmd);
  CLI::Option* res = cmd->add_flag("--residuals", *residuals, "print the forward values the backward keeps, in bytes per token");
  cmd->add_flag("--each", *verbose, "list every residual value, not only the totals per step");
  CLI::Option* em = cmd->add_option("--emit", *emit,
                     "print a stage of the CPU backend: fused (the launch list and each fused kernel as hrm ops with "
                     "its .hrm lines), linalg (kernels after fusion), llvm (optimised LLVM IR), asm (host assembly)")
                        ->check(CLI::IsMember({"fused", "linalg", "llvm", "asm"}));
  res->excludes(em);
  cmd->add_option("--function", *function, "with --emit: forward, loss, or train (the train step at -K; default)");
  cmd->add_option("--kernel", *kernel, "with --emit: only this fused kernel (e.g. fused_3)");
  cmd->add_flag("--no-locations", *noLocations, "with --emit=fused: leave out the source locations of ops");
  cmd->callback([=, &exitCode] {
    if (!*residuals && emit->empty()) {
      std::cerr << "hrmc inspect: say what to inspect: --residuals or --emit=STAGE (see --help)\n";
      exitCode = kUsageError;
      return;
    }
    auto c = compileToHrm(*opts, exitCode);
    if (!c) return;
    std::string error;
    const int K = grad->resolveK(*c->frontend->graph);
    const std::string fn = *function == "train" ? c->module->trainStep(K, error, grad->remat) : *function;
    if (fn.empty()) {
      std::cerr << "hrmc: error: " << error << "\n";
      exitCode = kCompileError;
      return;
    }
    if (!emit->empty()) {
      std::string text;
      if (!c->module->printKernels(fn, *emit, *kernel, !*noLocations, text, error)) {
        std::cerr << "hrmc: error: " << error << "\n";
        exitCode = kCompileError;
        return;
      }
      std::cout << text;
      exitCode = kOk;
      return;
    }
    const auto rows = c->module->residuals(fn);
    std::map<std::string, std::pair<int, int64_t>> perStep;  // step → (count, bytes/token)
    int64_t total = 0;
    std::cout << "residuals of " << fn << " (" << c->frontend->graph->name << "): forward values the backward reads\n";
    if (*verbose) std::cout << "  step                          producer              type                      bytes/token\n";
    char buf[256];
    for (const auto& r : rows) {
      const std::string step = r.step.empty() ? "(outside steps)" : r.step;
      perStep[step].first++;
      perStep[step].second += r.bytesPerToken;
      total += r.bytesPerToken;
      if (*verbose) {
        std::snprintf(buf, sizeof buf, "  %-29s %-21s %-25s %11lld\n", step.c_str(), r.producer.c_str(), r.type.c_str(),
                      static_cast<long long>(r.bytesPerToken));
        std::cout << buf;
      }
    }
    std::cout << "  step                                   values  bytes/token\n";
    for (const auto& [step, v] : perStep) {
      std::snprintf(buf, sizeof buf, "  %-38s %6d  %11lld\n", step.c_str(), v.first, static_cast<long long>(v.second));
      std::cout << buf;
    }
    std::snprintf(buf, sizeof buf, "  %-38s %6zu  %11lld  (%.1f KiB per token)\n", "total", rows.size(),
                  static_cast<long long>(total), static_cast<double>(total) / 1024.0);
    std::cout << buf;
    exitCode = kOk;
  });
}

}  // namespace hrmc::cli
