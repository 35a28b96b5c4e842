#include "runtime/train/Trainer.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <ostream>

#include <nlohmann/json.hpp>

#include "runtime/data/Packing.h"
#include "runtime/io/ArrayDir.h"
#include "runtime/train/Generator.h"
#include "runtime/train/LossPlot.h"
#include "runtime/exec/WeightCheck.h"

namespace hrmc::runtime {

namespace fs = std::filesystem;

Trainer::Trainer(const TrainConfig& config, compiler::HrmModule& module, Backend& backend, const Tokenizer& tok,
                 TokenizedSamples train, std::vector<TextSample> heldOut, std::ostream& out, Communicator& world)
    : cfg_(config), module_(module), backend_(backend), tok_(tok), train_(std::move(train)), heldOut_(std::move(heldOut)),
      out_(out), world_(world) {
  heldOutTokens_ = tokenize(heldOut_, tok_);
  // A model declaring `objective all_tokens` trains on every next token (the P(x) ablation, §7).
  if (!module_.responseOnly()) cfg_.targetOnly = false;
  // A sample longer than a micro-batch cannot be packed: an error naming it and the ways out, or
  // (data.on_long_sample = "skip") left out and counted.
  auto fits = [&](size_t s) { return train_.packedLength(s) <= cfg_.microBatchTokens; };
  if (cfg_.skipLongSamples) {
    const size_t before = train_.size();
    train_ = train_.filtered(fits);
    if (train_.size() < before)
      out_ << "data: left out " << before - train_.size() << " training samples longer than train.micro_batch_tokens = "
           << cfg_.microBatchTokens << " (data.on_long_sample = \"skip\")\n";
    if (train_.size() == 0) throw DataError("every training sample is longer than train.micro_batch_tokens = " + std::to_string(cfg_.microBatchTokens));
  }
  for (size_t s = 0; s < train_.size(); ++s)
    if (!fits(s))
      throw DataError(train_.where(s) + ": the sample packs to " + std::to_string(train_.packedLength(s)) +
                      " tokens, more than train.micro_batch_tokens = " + std::to_string(cfg_.microBatchTokens) +
                      "\nhint: raise the limit (-o train.micro_batch_tokens=" + std::to_string(train_.packedLength(s)) +
                      " or more), or set data.on_long_sample = \"skip\" to "
                      "leave such samples out and count them");
  // Credit window: the model's declaration unless the run config overrides it.
  const compiler::HrmModule::Credit c = module_.credit();
  const int steps = std::max(1, c.recurrentSteps);
  bpMin_ = cfg_.bpMinSteps > 0 ? cfg_.bpMinSteps : c.maxSteps > 0 ? c.minSteps : steps;
  bpMax_ = cfg_.bpMaxSteps > 0 ? cfg_.bpMaxSteps : c.maxSteps > 0 ? c.maxSteps : steps;
  bpWarmup_ = cfg_.bpWarmupRatio >= 0 ? cfg_.bpWarmupRatio : c.warmupRatio;
  if (bpMin_ > bpMax_) throw ConfigError("train.bp_min_steps is larger than train.bp_max_steps");
  // A global batch is windowsPerStep_ multipack windows of shards_ micro-batches (§3.4); each rank runs
  // the shards congruent to its rank.
  shards_ = cfg_.dataShards > 0 ? cfg_.dataShards : world_.size();
  if (shards_ % world_.size() != 0)
    throw ConfigError("train.data_shards = " + std::to_string(shards_) + " does not divide among " +
                      std::to_string(world_.size()) + " ranks\nhint: make it a multiple of the number of ranks (or 0: one per rank)");
  if (cfg_.batchTokens % (shards_ * cfg_.microBatchTokens) != 0)
    throw ConfigError("train.batch_tokens (" + std::to_string(cfg_.batchTokens) + ") is not a multiple of train.data_shards × "
                      "train.micro_batch_tokens (" + std::to_string(shards_) + " × " + std::to_string(cfg_.microBatchTokens) +
                      ")\nhint: each global batch is whole windows of one micro-batch per shard (HRM-TEXT.md §3.4)");
  windowsPerStep_ = cfg_.batchTokens / (shards_ * cfg_.microBatchTokens);
  // Steps per epoch follow from packing epoch 0 (packing is < 100% efficient, so this is exact only
  // for that epoch, as in the reference's estimate).
  std::vector<int64_t> lengths;
  for (int64_t s : epochOrder(static_cast<int64_t>(train_.size()), cfg_.seed, 0)) lengths.push_back(train_.packedLength(s));
  batchesPerEpoch_ = static_cast<int64_t>(multipackBatches(lengths, cfg_.microBatchTokens, static_cast<int>(shards_), 0, false).size());
  if (batchesPerEpoch_ == 0)
    throw DataError("the training data fills no multipack window of " + std::to_string(shards_) + " shards (fewer samples than shards)");
  totalSteps_ = cfg_.steps > 0 ? cfg_.steps : std::max<int64_t>(1, cfg_.epochs * batchesPerEpoch_ / windowsPerStep_);
}

void Trainer::initialize() {
  SplitMix64 rng(cfg_.seed ^ 0x5eed5eed5eedull);
  state_ = TrainingState{};
  for (const compiler::HrmModule::WeightSpec& w : module_.weights()) {
    HostTensor<float> t(w.shape, w.init == "ones" ? 1.0f : 0.0f);
    if (w.init == "trunc_normal") {
      // fmod(N(0,1), 3) · 1.014762601732121 · std (HRM-TEXT.md §1.9), N(0,1) by Box-Muller.
      for (float& x : t.data) {
        const double u1 = std::max(rng.uniform(), 1e-300), u2 = rng.uniform();
        const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
        x = static_cast<float>(std::fmod(z, 3.0) * 1.014762601732121 * w.stddev);
      }
    }
    if (w.bf16)
      for (float& x : t.data) x = roundToBf16(x);
    state_.params[w.name] = std::move(t);
  }
  bind();
}

void Trainer::bind() {
  const AdamAtan2Config config{cfg_.beta1, cfg_.beta2, cfg_.weightDecay, cfg_.ema};
  // The checkpoint's state for each trained weight, fresh state where it has none; the state of a
  // weight the model no longer trains stays out (as a fresh run would have it).
  OptimizerState trained;
  for (const compiler::HrmModule::WeightSpec& w : module_.weights()) {
    if (!w.trainable) continue;
    auto kept = state_.optimizer.find(w.name);
    trained[w.name] = kept != state_.optimizer.end() ? std::move(kept->second)
                                                      : freshOptimizerState(config, {{w.name, state_.params.at(w.name)}}).at(w.name);
  }
  state_.optimizer = std::move(trained);
  training_ = backend_.bindTraining(state_.params, state_.optimizer, config, world_);
}

void Trainer::readBack() {
  state_.params = training_->parameters();
  state_.optimizer = training_->optimizerState();
}

std::vector<WeightNeed> weightNeeds(const compiler::HrmModule& module) {
  std::vector<WeightNeed> needs;
  for (const compiler::HrmModule::WeightSpec& w : module.weights()) needs.push_back({w.name, w.shape});
  return needs;
}

void Trainer::restore(TrainingState s) {
  checkWeightsFit(s.params, weightNeeds(module_), "the checkpoint");
  state_ = std::move(s);
  bind();
}

std::vector<std::vector<int64_t>> Trainer::nextWindow() {
  for (;;) {
    if (cachedEpoch_ != state_.epoch) {
      const std::vector<int64_t> order = epochOrder(static_cast<int64_t>(train_.size()), cfg_.seed, state_.epoch);
      std::vector<int64_t> lengths;
      for (int64_t s : order) lengths.push_back(train_.packedLength(s));
      epochWindows_.clear();
      // Every shard of a window gets at least one sample, and every shard sees the same windows.
      for (int64_t shard = world_.rank(); shard < shards_; shard += world_.size()) {
        auto batches = multipackBatches(lengths, cfg_.microBatchTokens, static_cast<int>(shards_), static_cast<int>(shard), false);
        epochWindows_.resize(batches.size());
        for (size_t w = 0; w < batches.size(); ++w) {
          for (int64_t& i : batches[w]) i = order[i];
          epochWindows_[w].push_back(std::move(batches[w]));
        }
      }
      cachedEpoch_ = state_.epoch;
    }
    // state_.microBatch: the window within the epoch (one micro-batch per window with one shard).
    if (state_.microBatch < static_cast<int64_t>(epochWindows_.size())) return epochWindows_[state_.microBatch++];
    ++state_.epoch;
    state_.microBatch = 0;
  }
}

void Trainer::sumOverRanks(std::vector<double>& values) {
  if (world_.size() == 1) return;  // one process keeps its doubles as they are
  std::vector<float> f(values.begin(), values.end());
  world_.allReduceSum(f.data(), static_cast<int64_t>(f.size()));
  values.assign(f.begin(), f.end());
}

std::string Trainer::trainStepFor(int K) {
  std::string error;
  const std::string fn = module_.trainStep(K, error);
  if (fn.empty()) throw ConfigError("cannot build the train step for K = " + std::to_string(K) + ": " + error);
  return fn;
}

EvalResult Trainer::evaluate(const WeightMap& weights, bool withGeneration) {
  EvalResult r;
  if (heldOut_.empty()) return r;
  std::vector<int64_t> lengths;
  for (size_t s = 0; s < heldOutTokens_.size(); ++s) lengths.push_back(heldOutTokens_.packedLength(s));
  double lossSum = 0, accSum = 0, exactSum = 0, valid = 0;
  for (const auto& b : multipackBatches(lengths, cfg_.microBatchTokens, 1, 0, false)) {
    PackedBatch batch = buildBatch(heldOutTokens_, b, cfg_.microBatchTokens, cfg_.targetOnly);
    const double n = static_cast<double>(std::count_if(batch.labels.begin(), batch.labels.end(), [](int32_t l) { return l != -100; }));
    const auto out = backend_.run("loss", batch, weights);
    lossSum += out[0].data[0] * n;
    accSum += out[1].data[0] * n;
    exactSum += out[2].data[0] * static_cast<double>(b.size());
    valid += n;
    r.samples += static_cast<int64_t>(b.size());
  }
  r.loss = valid > 0 ? lossSum / valid : 0;
  r.accuracy = valid > 0 ? accSum / valid : 0;
  r.exactAccuracy = r.samples > 0 ? exactSum / static_cast<double>(r.samples) : 0;
  if (withGeneration) {
    std::vector<Prompt> prompts;
    int64_t longest = 0;
    for (const TextSample& s : heldOut_) {
      prompts.push_back({s.instruction, s.condition});
      longest = std::max<int64_t>(longest, static_cast<int64_t>(s.response.size()));
    }
    GenerateOptions g;
    g.maxTokens = longest + 4;
    g.maxContext = cfg_.microBatchTokens;
    std::vector<std::string> got = generate(backend_, weights, tok_, prompts, g);
    int64_t right = 0;
    for (size_t i = 0; i < got.size(); ++i) right += got[i] == heldOut_[i].response;
    r.generationExact = static_cast<double>(right) / static_cast<double>(got.size());
  }
  return r;
}

void Trainer::checkpoint(const std::string& sources) {
  readBack();
  if (world_.rank() != 0) return;  // every rank holds the same state: rank 0 writes it
  state_.configToml = toToml(cfg_);
  state_.sources = sources;
  char name[64];
  std::snprintf(name, sizeof name, "step-%06lld.safetensors", static_cast<long long>(state_.step));
  const fs::path dir = fs::path(cfg_.output) / "checkpoints";
  saveCheckpoint((dir / name).string(), state_);
  const fs::path tmp = dir / "latest.tmp";
  std::ofstream(tmp) << name << "\n";
  fs::rename(tmp, dir / "latest");
}

namespace {
std::string clock(double seconds) {
  const int64_t s = static_cast<int64_t>(seconds + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  return buf;
}
}  // namespace

namespace {

// Keeps the lines of metrics.jsonl up to `step` (a resumed run continues from its checkpoint, so the
// steps a killed run logged after it would otherwise appear twice); atomic.
void truncateMetrics(const fs::path& path, int64_t step) {
  std::ifstream in(path);
  if (!in) return;
  std::string kept;
  for (std::string line; std::getline(in, line);) {
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j.contains("step") && j["step"].is_number_integer() && j["step"].get<int64_t>() <= step)
      kept += line + "\n";
  }
  in.close();
  const fs::path tmp = path.string() + ".tmp";
  std::ofstream(tmp) << kept;
  fs::rename(tmp, path);
}

}  // namespace

void Trainer::checkRanksAgree(const std::string& sources) {
  if (world_.size() == 1) return;
  // FNV-1a over the model sources and the run configuration: rank 0's is the one to match.
  uint64_t mine = 1469598103934665603ull;
  for (const std::string& part : {sources, toToml(cfg_)})
    for (unsigned char ch : part) mine = (mine ^ ch) * 1099511628211ull;
  uint64_t rootHash = mine;
  world_.broadcast(&rootHash, sizeof rootHash, 0);
  // Every rank learns which ranks differ, so all of them stop with the same message.
  std::vector<float> differs(static_cast<size_t>(world_.size()), 0.0f);
  differs[static_cast<size_t>(world_.rank())] = mine != rootHash ? 1.0f : 0.0f;
  world_.allReduceSum(differs.data(), static_cast<int64_t>(differs.size()));
  std::string ranks;
  for (size_t r = 0; r < differs.size(); ++r)
    if (differs[r] > 0) ranks += (ranks.empty() ? "" : ", ") + std::to_string(r);
  const bool one = ranks.find(',') == std::string::npos;
  if (!ranks.empty())
    throw ConfigError((one ? "rank " : "ranks ") + ranks + (one ? " runs" : " run") +
                      " another model source or run configuration than rank 0\nhint: start every rank with the same "
                      "command line, config file and .hrm files");
}

bool Trainer::run(const std::atomic<bool>& stop, const std::string& sources, int64_t pauseAt) {
  checkRanksAgree(sources);
  const bool writer = world_.rank() == 0;  // metrics, the plot, progress and checkpoints
  const fs::path metricsPath = fs::path(cfg_.output) / "metrics.jsonl";
  const fs::path plotPath = fs::path(cfg_.output) / "loss.svg";
  std::ofstream metrics;
  if (writer) {
    fs::create_directories(cfg_.output);
    truncateMetrics(metricsPath, state_.step);
    metrics.open(metricsPath, std::ios::app);
  }
  const bool tty = writer && isatty(STDERR_FILENO);
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const int64_t firstStep = state_.step;
  double tokens = 0;
  while (state_.step < totalSteps_) {
    // Ctrl-C reaches the ranks at different moments: they stop together, at the same step.
    float stopping = stop.load() ? 1.0f : 0.0f;
    world_.allReduceSum(&stopping, 1);
    if (stopping > 0 || (pauseAt > 0 && state_.step >= pauseAt)) {
      checkpoint(sources);
      if (!writer) return false;
      metrics.close();
      writeLossPlot(metricsPath.string(), plotPath.string());
      if (tty) std::fputc('\n', stderr);
      out_ << "interrupted: saved a checkpoint at step " << state_.step << "; continue with --resume " << cfg_.output << "\n";
      return false;
    }
    const int64_t step = state_.step + 1;
    const int K = creditWindowAt(step, totalSteps_, bpMin_, bpMax_, bpWarmup_);
    const double lr = learningRateAt(step, totalSteps_, cfg_.lr, cfg_.lrMinRatio, cfg_.lrWarmupSteps);
    const std::string fn = trainStepFor(K);
    const std::vector<std::string> names = module_.gradientNames(fn);
    // Micro-batches: gradients of each micro-batch's mean loss, weighted by its share of the global
    // batch's valid labels, sum (over micro-batches here and over ranks in the optimizer step) to the
    // gradient of the global batch's token-mean loss (§3.7, §4.3).
    std::vector<PackedBatch> micro;
    std::vector<double> valid;
    for (int64_t w = 0; w < windowsPerStep_; ++w)
      for (const std::vector<int64_t>& samples : nextWindow()) {
        micro.push_back(buildBatch(train_, samples, cfg_.microBatchTokens, cfg_.targetOnly));
        valid.push_back(static_cast<double>(
            std::count_if(micro.back().labels.begin(), micro.back().labels.end(), [](int32_t l) { return l != -100; })));
      }
    std::vector<double> counts = {std::accumulate(valid.begin(), valid.end(), 0.0), static_cast<double>(micro.size())};
    sumOverRanks(counts);  // exact: integers below 2^24
    const double totalValid = counts[0], totalMicro = counts[1];
    std::vector<double> sums(4, 0.0);  // loss, accuracy, exact match, tokens: this rank's shares
    for (size_t a = 0; a < micro.size(); ++a) {
      const double w = totalValid > 0 ? valid[a] / totalValid : 1.0 / totalMicro;
      const StepScalars out = training_->accumulate(fn, names, micro[a], w);
      sums[0] += w * out.loss;
      sums[1] += w * out.accuracy;
      sums[2] += out.exact / totalMicro;
      sums[3] += static_cast<double>(micro[a].inputs.size());
    }
    sumOverRanks(sums);
    const double loss = sums[0], acc = sums[1], exact = sums[2];
    tokens += sums[3];
    training_->step(lr);
    state_.step = step;
    losses_.push_back(loss);

    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    const double tps = tokens / std::max(elapsed, 1e-9);
    const double eta = elapsed / static_cast<double>(step - firstStep) * static_cast<double>(totalSteps_ - step);
    metrics << nlohmann::json{{"step", step}, {"loss", loss}, {"accuracy", acc}, {"exact_accuracy", exact}, {"lr", lr},
                              {"bp_steps", K}, {"tokens_per_s", tps}}.dump()
            << "\n";
    char line[256];
    std::snprintf(line, sizeof line, "step %lld/%lld  loss %.4f  acc %.3f  lr %.2e  K %d  %.0f tok/s  ETA %s",
                  static_cast<long long>(step), static_cast<long long>(totalSteps_), loss, acc, lr, K, tps,
                  clock(eta).c_str());
    if (tty) std::fprintf(stderr, "\r%-100s", line);
    else if (step % cfg_.logInterval == 0 || step == totalSteps_) out_ << line << "\n" << std::flush;

    const bool last = step == totalSteps_;
    if (writer && ((cfg_.evalInterval > 0 && step % cfg_.evalInterval == 0) || last)) {
      readBack();
      const EvalResult e = evaluate(evaluationWeights(state_, cfg_.ema > 0), false);
      metrics << nlohmann::json{{"step", step}, {"eval_loss", e.loss}, {"eval_accuracy", e.accuracy},
                                {"eval_exact_accuracy", e.exactAccuracy}}.dump()
              << "\n";
      if (tty) std::fputc('\n', stderr);
      out_ << "eval @ step " << step << ": loss " << e.loss << ", token accuracy " << e.accuracy << ", exact "
           << e.exactAccuracy << " (" << e.samples << " held-out samples)\n" << std::flush;
    }
    if ((cfg_.checkpointInterval > 0 && step % cfg_.checkpointInterval == 0) || last) checkpoint(sources);
    metrics.flush();
  }
  if (tty) std::fputc('\n', stderr);
  if (!writer) return true;
  metrics.close();
  writeLossPlot(metricsPath.string(), plotPath.string());
  return true;
}

}  // namespace hrmc::runtime
