// `hrmc train`, `hrmc generate` and `hrmc eval`: the training workflow on top of runtime/train.
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "runtime/checkpoint/Safetensors.h"
#include "runtime/data/SyntheticTasks.h"
#include "runtime/io/ArrayDir.h"
#include "runtime/train/Generator.h"
#include "runtime/Backends.h"
#include "runtime/dist/MpiCommunicator.h"
#include "runtime/train/Trainer.h"
#include "tools/hrmc/Commands.h"

namespace hrmc::cli {

namespace fs = std::filesystem;
using namespace hrmc::runtime;

namespace {

std::atomic<bool> gStop{false};

// Generated text as it should appear in a log line: an untrained model emits any byte, so control
// bytes and bytes that are not valid UTF-8 are escaped as \xNN; valid UTF-8 text is kept.
std::string printable(const std::string& s) {
  std::string out;
  auto escape = [&](unsigned char c) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02x", c);
    out += buf;
  };
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const int extra = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xE ? 2 : (c >> 3) == 0x1E ? 3 : -1;
    bool ok = extra >= 0 && i + extra < s.size() && !(extra == 0 && (c < 0x20 || c == 0x7f));
    for (int k = 1; ok && k <= extra; ++k) ok = (static_cast<unsigned char>(s[i + k]) >> 6) == 0x2;
    if (!ok) {
      escape(c);
      ++i;
      continue;
    }
    out.append(s, i, static_cast<size_t>(extra) + 1);
    i += static_cast<size_t>(extra) + 1;
  }
  return out;
}
void onInterrupt(int) { gStop.store(true); }

// The model a run config names, compiled to hrm.
std::optional<CompiledModel> compileRunModel(const TrainConfig& cfg, int& exitCode) {
  ModelOptions m;
  m.file = cfg.model;
  m.preset = cfg.preset;
  for (const auto& [k, v] : cfg.modelSet) m.sets.push_back(k + "=" + v);
  return compileToHrm(m, exitCode);
}

std::string sourcesJson(const dsl::FrontendResult& fe) {
  nlohmann::json j = nlohmann::json::object();
  for (size_t i = 0; i < fe.sources.fileCount(); ++i) j[fe.sources.path(static_cast<uint32_t>(i))] = fe.sources.text(static_cast<uint32_t>(i));
  return j.dump();
}

int64_t modelVocab(const CompiledModel& c) {
  const dsl::ModelGraph& g = *c.frontend->graph;
  const dsl::TensorType& t = g.nodes[g.output].type;
  return t.dims.size() == 2 ? t.dims[1] : 0;
}

bool checkVocab(const CompiledModel& c, const Tokenizer& tok) {
  if (modelVocab(c) >= tok.vocabSize()) return true;
  std::cerr << "hrmc: error: the model's vocabulary is " << modelVocab(c) << " but the " << tok.name() << " tokenizer needs "
            << tok.vocabSize() << " (padded: " << tok.paddedVocab() << ")\nhint: --set vocab=" << tok.paddedVocab() << "\n";
  return false;
}

struct LoadedRun {
  TrainConfig config;
  CompiledModel model;
  TrainingState state;
};

// Where generate/eval take their weights from: an hrmc checkpoint (which names its model), or a
// reference-format safetensors file (weights under the §1.11 names) with the model given explicitly.
struct WeightSource {
  std::string checkpoint;
  std::string weights;
  std::string model = "models/hrm_text.hrm";
  std::string preset;
  std::vector<std::string> sets;
  std::string backend = "cpu";
  std::string precision;
  void add(CLI::App& cmd) {
    addPrecisionOption(cmd, precision, /*withAuto=*/true);
    cmd.add_option("--backend", backend, "cpu (fused, JIT-compiled), reference (op-by-op loops), or cuda (needs an NVIDIA GPU; its runtime is not built yet)")
        ->check(CLI::IsMember(backendChoices()))
        ->capture_default_str();
    cmd.add_option("--checkpoint", checkpoint, "a run folder or checkpoint file");
    cmd.add_option("--weights", weights, "reference-format weights (safetensors, HRM-TEXT.md §1.11 names) instead of a checkpoint");
    cmd.add_option("--model", model, "with --weights: the .hrm model")->capture_default_str();
    cmd.add_option("--preset", preset, "with --weights: the model preset");
    cmd.add_option("--set", sets, "with --weights: model config override KEY=VALUE");
  }
};

std::optional<LoadedRun> loadRun(const std::string& checkpoint, int& exitCode);

// Reference weights: the model compiled from the command line, the weights checked against it.
std::optional<LoadedRun> loadWeights(const WeightSource& src, int& exitCode) {
  LoadedRun r;
  r.config.model = src.model;
  r.config.preset = src.preset;
  try {
    for (const std::string& s : src.sets) r.config.modelSet.push_back(parseSet(s));
  } catch (const std::exception& e) {
    std::cerr << "hrmc: error: " << e.what() << "\n";
    exitCode = kUsageError;
    return std::nullopt;
  }
  auto c = compileRunModel(r.config, exitCode);
  if (!c) return std::nullopt;
  r.model = std::move(*c);
  try {
    r.state.params = readSafetensors(src.weights).tensors;
  } catch (const std::exception& e) {
    exitCode = reportError(e);
    return std::nullopt;
  }
  try {
    checkWeightsFit(r.state.params, weightNeeds(*r.model.module), src.weights);
  } catch (const std::exception& e) {
    exitCode = reportError(e);
    return std::nullopt;
  }
  for (const compiler::HrmModule::WeightSpec& w : r.model.module->weights()) {
    auto it = r.state.params.find(w.name);
    if (w.bf16)
      for (float& x : it->second.data) x = roundToBf16(x);
  }
  return r;
}

std::optional<LoadedRun> loadSource(const WeightSource& src, int& exitCode) {
  if (src.checkpoint.empty() == src.weights.empty()) {
    std::cerr << "hrmc: error: give exactly one of --checkpoint and --weights\n";
    exitCode = kUsageError;
    return std::nullopt;
  }
  return src.weights.empty() ? loadRun(src.checkpoint, exitCode) : loadWeights(src, exitCode);
}

// A checkpoint and the model it was trained from (recompiled from its recorded config).
std::optional<LoadedRun> loadRun(const std::string& checkpoint, int& exitCode) {
  LoadedRun r;
  try {
    r.state = loadCheckpoint(resolveCheckpoint(checkpoint));
    r.config = parseTrainConfig(r.state.configToml, checkpoint + " (stored run config)");
  } catch (const IoError& e) {
    std::cerr << "hrmc: error: " << e.what() << "\n";
    exitCode = kIoError;
    return std::nullopt;
  } catch (const ConfigError& e) {
    std::cerr << "hrmc: error: the checkpoint's run config is invalid: " << e.what() << "\n";
    exitCode = kCompileError;
    return std::nullopt;
  }
  auto c = compileRunModel(r.config, exitCode);
  if (!c) return std::nullopt;
  r.model = std::move(*c);
  // Warn when the model source on disk is not the one the checkpoint was trained from.
  auto recorded = nlohmann::json::parse(r.state.sources, nullptr, false);
  const std::string root = r.model.frontend->sources.path(r.model.frontend->program->root()->file->fileId);
  if (recorded.is_object() && recorded.contains(root) && recorded[root] != r.model.frontend->sources.text(r.model.frontend->program->root()->file->fileId))
    std::cerr << "hrmc: warning: " << root << " changed since this checkpoint was trained\n";
  try {
    checkWeightsFit(r.state.params, weightNeeds(*r.model.module), "the checkpoint " + checkpoint);
  } catch (const std::exception& e) {
    exitCode = reportError(e);
    return std::nullopt;
  }
  return r;
}

}  // namespace

void addTrainCommand(CLI::App& app, int& exitCode) {
  struct Opts {
    std::string model, config, preset, resume, output, backend, precision;
    std::vector<std::string> sets, options;
    int64_t steps = 0;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* cmd = app.add_subcommand("train", "train a model (default: the tiny HRM-Text on a built-in task)");
  cmd->add_option("model", o->model, "the .hrm model (default: the config's model, models/hrm_text.hrm)");
  cmd->add_option("--config,-c", o->config, "run configuration (TOML); every key is validated");
  cmd->add_option("--preset,-p", o->preset, "model preset (default: the config's, tiny)");
  cmd->add_option("--set,-s", o->sets, "model config override KEY=VALUE (repeatable)");
  cmd->add_option("--option,-o", o->options, "run config override SECTION.KEY=VALUE, e.g. train.lr=1e-3 (repeatable)");
  cmd->add_option("--steps", o->steps, "number of optimizer steps (overrides train.steps)");
  cmd->add_option("--output", o->output, "run folder: metrics.jsonl, loss.svg, checkpoints/ (overrides output)");
  cmd->add_option("--backend", o->backend, "cpu (fused, JIT-compiled; default), reference, or cuda (NVIDIA GPUs; its runtime is not built yet) (overrides train.backend)")
      ->check(CLI::IsMember(backendChoices()));
  CLI::Option* precision = addPrecisionOption(*cmd, o->precision, /*withAuto=*/true);
  precision->description(precision->get_description() + " (overrides train.precision)");
  cmd->add_option("--resume", o->resume, "continue a run exactly from its latest checkpoint (a run folder or a checkpoint)");
  cmd->callback([o, precision, &exitCode] {
    // Under mpirun (or srun) every process is a rank of one data-parallel run; rank 0 alone prints and
    // writes, the others run their shards of each batch silently.
    std::unique_ptr<Communicator> world;
    try {
      world = worldCommunicator();
    } catch (const std::exception& e) {
      exitCode = reportError(e);
      return;
    }
    std::streambuf* const coutBuffer = std::cout.rdbuf();
    if (world->rank() != 0) std::cout.rdbuf(nullptr);
    struct RestoreCout {
      std::streambuf* buffer;
      ~RestoreCout() {
        std::cout.rdbuf(buffer);
        std::cout.clear();
      }
    } restoreCout{coutBuffer};
    const bool writer = world->rank() == 0;
    TrainConfig cfg;
    TrainingState resumeState;
    std::string trainedIn;  // the precision a resumed run used ("auto" in runs from before it was recorded: fp32)
    try {
      if (!o->resume.empty()) {
        resumeState = loadCheckpoint(resolveCheckpoint(o->resume));
        cfg = parseTrainConfig(resumeState.configToml, o->resume + " (stored run config)");
        trainedIn = cfg.precision == "auto" ? "fp32" : cfg.precision;
      }
      if (!o->config.empty()) cfg = loadTrainConfig(o->config, cfg);
      applyOverrides(cfg, o->options);
      if (!o->model.empty()) cfg.model = o->model;
      if (!o->preset.empty()) cfg.preset = o->preset;
      if (!o->output.empty()) cfg.output = o->output;
      if (o->steps > 0) cfg.steps = o->steps;
      if (!o->backend.empty()) cfg.backend = o->backend;
      if (precision->count() > 0) cfg.precision = o->precision;
      for (const std::string& s : o->sets) cfg.modelSet.push_back(parseSet(s));
    } catch (const std::exception& e) {
      exitCode = reportError(e);
      return;
    }
    auto compiled = compileRunModel(cfg, exitCode);
    if (!compiled) return;
    ByteTokenizer tok;
    if (!checkVocab(*compiled, tok)) {
      exitCode = kCompileError;
      return;
    }
    try {
      // Data: a built-in task (written out as JSONL, the format users bring) or the user's files.
      TokenizedSamples train;
      std::vector<TextSample> heldOut;
      const fs::path dataDir = fs::path(cfg.output) / "data";
      if (cfg.trainFile.empty()) {
        TaskSpec spec{cfg.task, cfg.taskMinLen, cfg.taskMaxLen};
        std::vector<TextSample> samples = generateTask(spec, static_cast<size_t>(cfg.trainSamples), cfg.seed + 1);
        heldOut = generateTask(spec, static_cast<size_t>(cfg.evalSamples), cfg.seed + 2, &samples);
        if (writer) {
          fs::create_directories(dataDir);
          writeJsonl((dataDir / "train.jsonl").string(), samples);
          writeJsonl((dataDir / "eval.jsonl").string(), heldOut);
        }
        train = tokenize(samples, tok, "the built-in task '" + cfg.task + "'");
        std::cout << "data: built-in task '" << cfg.task << "', " << samples.size() << " training and " << heldOut.size()
                  << " held-out samples (written to " << dataDir.string() << ")\n";
      } else {
        JsonlReport report;
        bool cached = false;
        train = loadTokenized(cfg.trainFile, tok, (fs::path(cfg.output) / "cache").string(), cfg.skipBadLines, report, cached);
        if (!cfg.evalFile.empty()) heldOut = readJsonl(cfg.evalFile, cfg.skipBadLines, report);
        std::cout << "data: " << train.size() << " training samples from " << cfg.trainFile
                  << (cached ? " (token cache)" : "") << ", " << heldOut.size() << " held out";
        if (report.skipped) std::cout << "; skipped " << report.skipped << " malformed lines, e.g. " << report.problems[0];
        std::cout << "\n";
      }
      if (train.size() == 0) throw DataError("no training samples");
      std::unique_ptr<Backend> backendPtr = makeBackend(cfg.backend, *compiled->module);
      Backend& backend = *backendPtr;
      const std::optional<compiler::Precision> used = applyPrecision(*compiled->module, cfg.precision, &backend, exitCode);
      if (!used) return;
      cfg.precision = compiler::spell(*used);  // the run folder records the precision used
      if (!trainedIn.empty() && trainedIn != cfg.precision)
        std::cerr << "hrmc: warning: this run trained in " << trainedIn << " and continues in " << cfg.precision
                  << ": the master weights are fp32, so it continues, but not bit-exactly as it would have\n";
      Trainer trainer(cfg, *compiled->module, backend, tok, std::move(train), heldOut, std::cout, *world);
      if (!o->resume.empty()) {
        trainer.restore(std::move(resumeState));
        std::cout << "resumed at step " << trainer.state().step << " of " << trainer.totalSteps() << "\n";
      } else {
        trainer.initialize();
      }
      std::cout << "model " << compiled->frontend->graph->name << " (" << cfg.model << ", preset " << cfg.preset << "), "
                << trainer.totalSteps() << " steps of " << cfg.batchTokens << " tokens on the " << backend.name()
                << " backend in " << cfg.precision
                << (world->size() > 1 ? ", " + std::to_string(world->size()) + " ranks (tokens/s counts all of them)" : "")
                << "; output in " << cfg.output << "\n";
      if (writer) std::ofstream(fs::path(cfg.output) / "config.toml") << toToml(cfg);
      std::signal(SIGINT, onInterrupt);
      const auto t0 = std::chrono::steady_clock::now();
      const bool finished = trainer.run(gStop, sourcesJson(*compiled->frontend));
      std::signal(SIGINT, SIG_DFL);
      if (!finished) {
        exitCode = 130;
        return;
      }
      if (!writer) {  // the summary is rank 0's
        exitCode = kOk;
        return;
      }
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      // Summary: held-out greedy-generation exact match with the EMA weights, and a few generations.
      const WeightMap weights = evaluationWeights(
          TrainingState{0, 0, 0, trainer.state().params, trainer.state().optimizer, "", "", ""}, cfg.ema > 0);
      const EvalResult e = trainer.evaluate(weights, true);
      if (trainer.losses().empty())
        std::cout << "nothing to train: the run in " << cfg.output << " already finished at step " << trainer.state().step
                  << " of " << trainer.totalSteps() << "\nhint: train longer with --steps N (more than "
                  << trainer.totalSteps() << ") and --resume, or start a new run with another --output\n";
      else
        std::cout << "\ndone: " << trainer.totalSteps() << " steps in " << static_cast<int64_t>(seconds)
                  << " s; final train loss " << trainer.losses().back() << "\n";
      std::cout << "held-out (" << e.samples << " samples, " << (cfg.ema > 0 ? "EMA" : "final")
                << " weights): loss " << e.loss << ", token accuracy " << e.accuracy << ", generation exact match "
                << e.generationExact << "\n";
      std::vector<Prompt> prompts;
      for (int64_t i = 0; i < cfg.generateExamples && i < static_cast<int64_t>(heldOut.size()); ++i)
        prompts.push_back({heldOut[i].instruction, heldOut[i].condition});
      GenerateOptions g;
      g.maxContext = cfg.microBatchTokens;
      const auto answers = generate(backend, weights, tok, prompts, g);
      for (size_t i = 0; i < answers.size(); ++i)
        std::cout << "  " << printable(prompts[i].text) << "  ->  " << printable(answers[i])
                  << (answers[i] == heldOut[i].response ? "  (correct)" : "  (expected " + printable(heldOut[i].response) + ")") << "\n";
      std::cout << "metrics: " << (fs::path(cfg.output) / "metrics.jsonl").string() << ", plot: "
                << (fs::path(cfg.output) / "loss.svg").string() << ", checkpoint: "
                << (fs::path(cfg.output) / "checkpoints").string() << "\n";
      exitCode = kOk;
    } catch (const std::exception& e) {
      exitCode = reportError(e);
    }
  });
}

void addGenerateCommand(CLI::App& app, int& exitCode) {
  struct Opts {
    WeightSource source;
    std::string prompt, file, condition = "direct";
    double temperature = 0;
    int64_t maxTokens = 64;
    bool noEma = false;
    uint64_t seed = 0;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* cmd = app.add_subcommand("generate", "generate responses with a trained checkpoint (PrefixLM, §5)");
  o->source.add(*cmd);
  cmd->add_option("--prompt", o->prompt, "one instruction");
  cmd->add_option("--file", o->file, "instructions, one per line");
  cmd->add_option("--condition", o->condition, "condition tokens: direct, cot, noisy, synth (comma list)")->capture_default_str();
  cmd->add_option("--temperature", o->temperature, "0: greedy; otherwise sample from softmax(logits / T)")->capture_default_str();
  cmd->add_option("--max-tokens", o->maxTokens, "most tokens to generate per prompt")->capture_default_str();
  cmd->add_option("--seed", o->seed, "sampling seed")->capture_default_str();
  cmd->add_flag("--no-ema", o->noEma, "use the trained weights instead of their EMA");
  cmd->callback([o, &exitCode] {
    if (o->prompt.empty() == o->file.empty()) {
      std::cerr << "hrmc: error: give exactly one of --prompt TEXT and --file F\n";
      exitCode = kUsageError;
      return;
    }
    auto run = loadSource(o->source, exitCode);
    if (!run) return;
    std::vector<Prompt> prompts;
    if (!o->prompt.empty()) {
      prompts.push_back({o->prompt, o->condition});
    } else {
      std::ifstream in(o->file);
      if (!in) {
        std::cerr << "hrmc: error: " << o->file << ": cannot open\n";
        exitCode = kIoError;
        return;
      }
      for (std::string line; std::getline(in, line);)
        if (!line.empty()) prompts.push_back({line, o->condition});
    }
    ByteTokenizer tok;
    std::unique_ptr<Backend> backendPtr = makeBackend(o->source.backend, *run->model.module);
    Backend& backend = *backendPtr;
    if (!applyPrecision(*run->model.module, o->source.precision, &backend, exitCode)) return;
    GenerateOptions g;
    g.temperature = o->temperature;
    g.maxTokens = o->maxTokens;
    g.maxContext = run->config.microBatchTokens;
    g.seed = o->seed;
    try {
      for (size_t i = 0; i < prompts.size(); ++i) tok.instruction(prompts[i].text, prompts[i].condition);
      const auto answers = generate(backend, evaluationWeights(run->state, !o->noEma), tok, prompts, g);
      for (const std::string& a : answers) std::cout << a << "\n";
      exitCode = kOk;
    } catch (const std::exception& e) {
      exitCode = reportError(e);
    }
  });
}

void addEvalCommand(CLI::App& app, int& exitCode) {
  struct Opts {
    WeightSource source;
    std::string data;
    bool json = false, noEma = false, skipBad = false;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* cmd = app.add_subcommand("eval", "evaluate a checkpoint on JSONL data: loss, accuracy, exact match");
  o->source.add(*cmd);
  cmd->add_option("--data", o->data, "instruction/response JSONL")->required();
  cmd->add_flag("--json", o->json, "print the results as one JSON object");
  cmd->add_flag("--no-ema", o->noEma, "use the trained weights instead of their EMA");
  cmd->add_flag("--skip-bad-lines", o->skipBad, "skip malformed lines (counted) instead of stopping");
  cmd->callback([o, &exitCode] {
    auto run = loadSource(o->source, exitCode);
    if (!run) return;
    try {
      JsonlReport report;
      std::vector<TextSample> data = readJsonl(o->data, o->skipBad, report);
      ByteTokenizer tok;
      std::unique_ptr<Backend> backend = makeBackend(o->source.backend, *run->model.module);
      if (!applyPrecision(*run->model.module, o->source.precision, backend.get(), exitCode)) return;
      TrainConfig cfg = run->config;
      cfg.steps = 1;
      Trainer evaluator(cfg, *run->model.module, *backend, tok, tokenize(data, tok), data, std::cerr);
      const EvalResult e = evaluator.evaluate(evaluationWeights(run->state, !o->noEma), true);
      if (o->json) {
        std::cout << nlohmann::json{{"samples", e.samples}, {"loss", e.loss}, {"accuracy", e.accuracy},
                                    {"exact_accuracy", e.exactAccuracy}, {"generation_exact_match", e.generationExact},
                                    {"skipped_lines", report.skipped}}.dump()
                  << "\n";
      } else {
        std::cout << "samples " << e.samples << "\nloss " << e.loss << "\naccuracy " << e.accuracy << "\nexact_accuracy "
                  << e.exactAccuracy << "\ngeneration_exact_match " << e.generationExact << "\n";
        if (report.skipped) std::cout << "skipped " << report.skipped << " malformed lines\n";
      }
      exitCode = kOk;
    } catch (const std::exception& e) {
      exitCode = reportError(e);
    }
  });
}

}  // namespace hrmc::cli
