// `hrmc inspect FILE --residuals`: what the backward keeps alive from the forward, per step, in
// bytes per packed token, at credit window K (and with --remat, after recomputation).
// `hrmc inspect FILE --emit=STAGE`: a stage of the --emit ladder, as `hrmc compile` prints it.
#include <cstdio>
#include <iostream>
#include <map>

#include "tools/hrmc/EmitLadder.h"

namespace hrmc::cli {

void addInspectCommand(CLI::App& app, int& exitCode) {
  auto opts = std::make_shared<ModelOptions>();
  auto grad = std::make_shared<GradOptions>();
  auto residuals = std::make_shared<bool>(false);
  auto verbose = std::make_shared<bool>(false);
  auto emitOpts = std::make_shared<EmitOptions>();
  CLI::App* cmd = app.add_subcommand("inspect", "inspect a compiled model: residuals of the train step, or a stage of the --emit ladder");
  opts->add(*cmd);
  grad->add(*cmd);
  CLI::Option* res = cmd->add_flag("--residuals", *residuals, "print the forward values the backward keeps, in bytes per token");
  cmd->add_flag("--each", *verbose, "list every residual value, not only the totals per step");
  CLI::Option* em = emitOpts->add(*cmd, "");
  res->excludes(em);
  cmd->callback([=, &exitCode] {
    if (!*residuals && emitOpts->stage.empty()) {
      std::cerr << "hrmc inspect: say what to inspect: --residuals or --emit=STAGE (see --help)\n";
      exitCode = kUsageError;
      return;
    }
    if (!emitOpts->stage.empty()) {
      exitCode = emit(*opts, *grad, *emitOpts);
      return;
    }
    auto c = compileToHrm(*opts, exitCode);
    if (!c) return;
    std::string error;
    const std::string fn = c->module->trainStep(grad->resolveK(*c->frontend->graph), error, grad->remat);
    if (fn.empty()) {
      std::cerr << "hrmc: error: " << error << "\n";
      exitCode = kCompileError;
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
