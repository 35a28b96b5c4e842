// `hrmc run FILE --weights DIR --batch DIR`: evaluate a model on a saved packed batch with the
// reference executor, print loss and metrics, and optionally write the logits and per-token CE.
#include <cmath>
#include <iostream>

#include "compiler/HrmModule.h"
#include "runtime/io/ArrayDir.h"
#include "runtime/reference/ReferenceExecutor.h"
#include "runtime/reference/ReferenceKernels.h"
#include "tools/hrmc/Commands.h"

namespace hrmc::cli {

namespace {

struct RunOptions {
  ModelOptions model;
  std::string weights;
  std::string weightsKey = "params_init";
  std::string batch;
  std::string output;
  bool fp64 = false;
};

// Weights: the named arrays of files.<key>; each buffer from the entry named like its last component.
runtime::WeightMap loadWeights(const runtime::ArrayDir& dir, const std::string& key, const dsl::ModelGraph& g) {
  runtime::WeightMap w = dir.named(key);
  for (const dsl::Weight& b : g.weights) {
    if (b.trainable || w.count(b.name)) continue;
    const std::string shortName = b.name.substr(b.name.rfind('.') + 1);
    if (dir.has(shortName)) w[b.name] = dir.floats(shortName);
  }
  return w;
}

template <typename Real>
int run(const RunOptions& o, const dsl::FrontendResult& fe, const compiler::HrmModule& module) {
  runtime::ArrayDir weightsDir(o.weights);
  runtime::ArrayDir batchDir(o.batch);
  runtime::WeightMap weights = loadWeights(weightsDir, o.weightsKey, *fe.graph);
  runtime::PackedBatch batch = batchDir.batch();
  runtime::ReferenceExecutor<Real> exec(module);
  auto fwd = exec.run("forward", batch, weights);
  auto loss = exec.run("loss", batch, weights);
  const runtime::HostTensor<Real>& logits = fwd.results[0];
  runtime::HostTensor<float> ce({static_cast<int64_t>(batch.inputs.size())});
  std::vector<Real> ceReal(ce.data.size());
  runtime::ref::crossEntropy(logits.data.data(), batch.labels.data(), ceReal.data(), logits.shape[0], logits.shape[1]);
  ce.data.assign(ceReal.begin(), ceReal.end());
  std::cout << "tokens " << batch.inputs.size() << " (" << batch.seq.samples() << " samples, "
            << batch.inputs.size() - batch.seq.totalSeqlen << " padding)\n"
            << "loss " << loss.results[0].data[0] << "\naccuracy " << loss.results[1].data[0] << "\nexact_accuracy "
            << loss.results[2].data[0] << "\n";
  if (batchDir.has("logits")) {
    runtime::HostTensor<float> want = batchDir.floats("logits");
    double maxAbs = 0;
    for (size_t i = 0; i < want.data.size() && i < logits.data.size(); ++i)
      maxAbs = std::max(maxAbs, std::fabs(double(logits.data[i]) - want.data[i]));
    std::cout << "logits vs " << o.batch << ": max abs difference " << maxAbs << "\n";
  }
  if (!o.output.empty()) {
    std::map<std::string, runtime::HostTensor<float>> arrays{{"logits", logits.template cast<float>()}, {"token_ce", ce}};
    for (const auto& [label, value] : fwd.steps) arrays["step_" + label] = value.template cast<float>();
    runtime::writeArrayDir(o.output, arrays, {{"loss", double(loss.results[0].data[0])}});
    std::cout << "wrote " << o.output << "/manifest.json\n";
  }
  return kOk;
}

}  // namespace

void addRunCommand(CLI::App& app, int& exitCode) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "evaluate a model on a saved packed batch with the reference executor");
  o->model.add(*cmd);
  cmd->add_option("--weights,-w", o->weights, "folder of weights in the array-folder layout of shared/golden")->required();
  cmd->add_option("--weights-key", o->weightsKey, "manifest entry holding the named weights")->capture_default_str();
  cmd->add_option("--batch,-b", o->batch, "folder with inputs, labels, position_ids, prefix_lens, causal_lens")->required();
  cmd->add_option("--output,-o", o->output, "write logits, per-token CE and every step's state here");
  cmd->add_flag("--fp64", o->fp64, "compute in fp64 instead of fp32");
  cmd->callback([o, &exitCode] {
    auto c = compileToHrm(o->model, exitCode);
    if (!c) return;
    const dsl::FrontendResult& fe = *c->frontend;
    const compiler::HrmModule& module = *c->module;
    try {
      exitCode = o->fp64 ? run<double>(*o, fe, module) : run<float>(*o, fe, module);
    } catch (const std::exception& e) {
      exitCode = reportError(e);
    }
  });
}

}  // namespace hrmc::cli
