// `hrmc inspect FILE --residuals`: what the backward keeps alive from the forward, per step, in
// bytes per packed token, at credit window K (and with --remat, after recomputation).
// `hrmc inspect FILE --memory-plan [--tokens N]`: where the activations of a function live.
// `hrmc inspect FILE --emit=STAGE`: a stage of the --emit ladder, as `hrmc compile` prints it.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>

#include "runtime/exec/MemoryPlan.h"
#include "tools/hrmc/EmitLadder.h"

namespace hrmc::cli {

namespace {

// The memory plan (runtime/exec/MemoryPlan.h) of a function's launches: the arena, the live-set peak
// and the largest buffers with the launches between which they live.
int printMemoryPlan(compiler::HrmModule& module, const std::string& fn, int64_t tokens) {
  std::string error;
  const compiler::CompiledProgram* compiled = module.compile(fn, "cpu", error);
  if (!compiled) {
    std::cerr << "hrmc: error: " << error << "\n";
    return kCompileError;
  }
  const compiler::KernelProgram& p = compiled->program;
  const runtime::MemoryPlan plan = runtime::planMemory(p, tokens);
  std::printf("memory plan of %s at %lld tokens: %zu launches, arena %.1f MiB, live-set peak %.1f MiB\n", fn.c_str(),
              static_cast<long long>(tokens), p.launches.size(), plan.arenaBytes / 1048576.0, plan.liveBytesPeak / 1048576.0);
  std::vector<int> order;
  for (size_t v = 0; v < p.values.size(); ++v)
    if (plan.bytes[v] > 0) order.push_back(static_cast<int>(v));
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return plan.bytes[a] > plan.bytes[b]; });
  std::printf("  largest buffers:      MiB   offset MiB  written by            lives until\n");
  for (size_t i = 0; i < order.size() && i < 12; ++i) {
    const int v = order[i];
    const int first = plan.firstLaunch[v], last = plan.lastLaunch[v];
    const std::string until = last >= static_cast<int>(p.launches.size()) ? std::string("the end (a result)")
                                                                            : "launch " + std::to_string(last) + " " + p.launches[last].name();
    std::printf("  %%%-6d %15.1f %12.1f  launch %-4d %-10s %s\n", v, plan.bytes[v] / 1048576.0, plan.offsets[v] / 1048576.0,
                first, p.launches[first].name().c_str(), until.c_str());
  }
  return kOk;
}

}  // namespace

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
  auto memory = std::make_shared<bool>(false);
  auto tokens = std::make_shared<int64_t>(8192);
  CLI::Option* mem = cmd->add_flag("--memory-plan", *memory,
                                   "print the activation memory plan of --function (default: the train step at -K) at --tokens");
  cmd->add_option("--tokens", *tokens, "with --memory-plan: packed tokens per micro-batch")->capture_default_str();
  CLI::Option* em = emitOpts->add(*cmd, "");
  res->excludes(em);
  mem->excludes(em);
  mem->excludes(res);
  cmd->callback([=, &exitCode] {
    if (emitOpts->report) emitOpts->stage = "report";
    if (!*residuals && !*memory && emitOpts->stage.empty()) {
      std::cerr << "hrmc inspect: say what to inspect: --residuals, --memory-plan, --emit=STAGE or --target cuda "
                   "--report (see --help)\n";
      exitCode = kUsageError;
      return;
    }
    if (!emitOpts->stage.empty()) {
      exitCode = emit(*opts, *grad, *emitOpts);
      return;
    }
    auto c = compileToHrm(*opts, exitCode);
    if (!c || !applyPrecision(*c->module, emitOpts->precision, nullptr, exitCode)) return;
    std::string error;
    const std::string fn = c->module->trainStep(grad->resolveK(*c->frontend->graph), error, grad->remat);
    if (fn.empty()) {
      std::cerr << "hrmc: error: " << error << "\n";
      exitCode = kCompileError;
      return;
    }
    if (*memory) {
      exitCode = printMemoryPlan(*c->module, emitOpts->function == "train" ? fn : emitOpts->function, *tokens);
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
