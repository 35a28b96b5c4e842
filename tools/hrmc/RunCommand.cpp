// `hrmc run FILE --weights DIR --batch DIR [--backend B] [-K k]`: evaluate a model on a saved packed
// batch, print loss and metrics, compare with the expected arrays the batch folder holds (logits,
// gradients), and optionally write the logits, per-token CE, every recurrent step's state (reference
// backend) and, with -K, the train step's gradients under the weights' names.
#include <cmath>
#include <iostream>

#include "compiler/HrmModule.h"
#include "runtime/Backends.h"
#include "runtime/io/ArrayDir.h"
#include "runtime/reference/ReferenceExecutor.h"
#include "runtime/reference/ReferenceKernels.h"
#include "runtime/train/Trainer.h"
#include "tools/hrmc/Commands.h"

namespace hrmc::cli {

namespace {

struct RunOptions {
  ModelOptions model;
  GradOptions grad;
  std::string weights;
  std::string weightsKey = "params_init";
  std::string batch;
  std::string output;
  std::string backend = "reference";
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

// A function's results in fp32, with each recurrent step's state when the reference executor ran it.
struct Results {
  std::vector<runtime::HostTensor<float>> values;
  std::vector<std::pair<std::string, runtime::HostTensor<float>>> steps;
};

template <typename Real>
Results runReference(const compiler::HrmModule& module, const std::string& fn, const runtime::PackedBatch& batch,
                     const runtime::WeightMap& weights) {
  auto out = runtime::ReferenceExecutor<Real>(module).run(fn, batch, weights);
  Results r;
  for (auto& v : out.results) r.values.push_back(v.template cast<float>());
  for (auto& [label, v] : out.steps) r.steps.emplace_back(label, v.template cast<float>());
  return r;
}

int run(const RunOptions& o, const dsl::FrontendResult& fe, compiler::HrmModule& module) {
  if (o.fp64 && o.backend != "reference") throw runtime::ConfigError("--fp64 runs on the reference backend only");
  runtime::ArrayDir weightsDir(o.weights);
  runtime::ArrayDir batchDir(o.batch);
  const runtime::WeightMap weights = loadWeights(weightsDir, o.weightsKey, *fe.graph);
  runtime::checkWeightsFit(weights, runtime::weightNeeds(module), o.weights);
  const runtime::PackedBatch batch = batchDir.batch();
  std::unique_ptr<runtime::Backend> backend = o.backend == "reference" ? nullptr : runtime::makeBackend(o.backend, module);
  auto runFn = [&](const std::string& fn) {
    if (backend) return Results{backend->run(fn, batch, weights), {}};
    return o.fp64 ? runReference<double>(module, fn, batch, weights) : runReference<float>(module, fn, batch, weights);
  };
  const Results fwd = runFn("forward");
  const Results loss = runFn("loss");
  const runtime::HostTensor<float>& logits = fwd.values[0];
  runtime::HostTensor<float> ce({static_cast<int64_t>(batch.inputs.size())});
  runtime::ref::crossEntropy(logits.data.data(), batch.labels.data(), ce.data.data(), logits.shape[0], logits.shape[1]);
  std::cout << "backend " << o.backend << (o.fp64 ? " (fp64)" : "") << "\ntokens " << batch.inputs.size() << " ("
            << batch.seq.samples() << " samples, " << batch.inputs.size() - batch.seq.totalSeqlen << " padding)\n"
            << "loss " << loss.values[0].data[0] << "\naccuracy " << loss.values[1].data[0] << "\nexact_accuracy "
            << loss.values[2].data[0] << "\n";
  if (batchDir.has("logits")) {
    runtime::HostTensor<float> want = batchDir.floats("logits");
    double maxAbs = 0;
    for (size_t i = 0; i < want.data.size() && i < logits.data.size(); ++i)
      maxAbs = std::max(maxAbs, std::fabs(double(logits.data[i]) - want.data[i]));
    std::cout << "logits vs " << o.batch << ": max abs difference " << maxAbs << "\n";
  }
  std::map<std::string, std::map<std::string, runtime::HostTensor<float>>> groups;
  if (o.grad.bpSteps > 0) {
    const int K = o.grad.bpSteps;
    std::string error;
    const std::string fn = module.trainStep(K, error, o.grad.remat);
    if (fn.empty()) throw runtime::ConfigError(error);
    const Results step = runFn(fn);
    const std::vector<std::string> names = module.gradientNames(fn);
    std::map<std::string, runtime::HostTensor<float>>& grads = groups["grads_k" + std::to_string(K)];
    double sumSq = 0;
    for (size_t i = 0; i < names.size(); ++i) {
      grads[names[i]] = step.values[3 + i];
      for (float g : step.values[3 + i].data) sumSq += double(g) * g;
    }
    std::cout << "train step K=" << K << ": loss " << step.values[0].data[0] << ", gradients of " << names.size()
              << " weights, global norm " << std::sqrt(sumSq) << "\n";
    // The goldens name their gradients grads_bpK (HRM-TEXT.md's bp_steps).
    const std::string expected = "grads_bp" + std::to_string(K);
    if (batchDir.has(expected)) {
      const auto want = batchDir.named(expected);
      double worst = 0;
      std::string worstName;
      for (const auto& [name, w] : want) {
        auto it = grads.find(name);
        if (it == grads.end()) continue;
        double maxRef = 1e-30, maxAbs = 0;
        for (size_t j = 0; j < w.data.size() && j < it->second.data.size(); ++j) {
          maxRef = std::max(maxRef, std::fabs(double(w.data[j])));
          maxAbs = std::max(maxAbs, std::fabs(double(it->second.data[j]) - w.data[j]));
        }
        if (maxAbs / maxRef >= worst) {
          worst = maxAbs / maxRef;
          worstName = name;
        }
      }
      std::cout << "gradients vs " << o.batch << "/" << expected << ": worst relative difference " << worst << " ("
                << worstName << ")\n";
    }
  }
  if (!o.output.empty()) {
    std::map<std::string, runtime::HostTensor<float>> arrays{{"logits", logits}, {"token_ce", ce}};
    for (const auto& [label, value] : fwd.steps) arrays["step_" + label] = value;
    runtime::writeArrayDir(o.output, arrays, {{"loss", double(loss.values[0].data[0])}, {"backend", o.backend}}, groups);
    std::cout << "wrote " << o.output << "/manifest.json\n";
  }
  return kOk;
}

}  // namespace

void addRunCommand(CLI::App& app, int& exitCode) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "evaluate a model on a saved packed batch (forward, loss, and with -K the train step's gradients)");
  o->model.add(*cmd);
  cmd->add_option("--weights,-w", o->weights, "folder of weights in the array-folder layout of tests/golden/micro")->required();
  cmd->add_option("--weights-key", o->weightsKey, "manifest entry holding the named weights")->capture_default_str();
  cmd->add_option("--batch,-b", o->batch, "folder with inputs, labels, position_ids, prefix_lens, causal_lens")->required();
  cmd->add_option("--output,-o", o->output,
                  "write logits, per-token CE, every step's state (reference backend) and with -K the gradients "
                  "(group grads_kK, under the weights' names) here");
  cmd->add_option("--backend", o->backend, "the executor: reference (op-by-op loops, the oracle), cpu or cuda")
      ->check(CLI::IsMember(backendChoices()))
      ->capture_default_str();
  cmd->add_option("--bp-steps,-K", o->grad.bpSteps, "also run the train step at credit window K and report its gradients");
  cmd->add_option("--remat", o->grad.remat, "with -K: recompute this module's steps in the backward (repeatable)");
  cmd->add_flag("--fp64", o->fp64, "compute in fp64 instead of fp32 (reference backend)");
  cmd->callback([o, &exitCode] {
    auto c = compileToHrm(o->model, exitCode);
    if (!c) return;
    try {
      exitCode = run(*o, *c->frontend, *c->module);
    } catch (const std::exception& e) {
      exitCode = reportError(e);
    }
  });
}

}  // namespace hrmc::cli
