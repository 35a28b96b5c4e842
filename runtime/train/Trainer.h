#pragma once
// The training loop (HRM-TEXT.md §4.6): packed batches from the data pipeline, K(step) choosing the
// compiled train-step variant, gradient accumulation over micro-batches and AdamATan2 + EMA on the
// backend (the training state lives there: runtime/exec/Training.h), periodic held-out evaluation,
// metrics as JSONL with a loss plot, checkpoints, and a clean stop on Ctrl-C.
#include <atomic>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "runtime/data/Samples.h"
#include "runtime/dist/Communicator.h"
#include "compiler/HrmModule.h"
#include "runtime/exec/Backend.h"
#include "runtime/exec/WeightCheck.h"
#include "runtime/train/Checkpoint.h"
#include "runtime/train/Schedules.h"
#include "runtime/train/TrainConfig.h"

namespace hrmc::runtime {

struct EvalResult {
  double loss = 0, accuracy = 0, exactAccuracy = 0;  // teacher-forced, over every held-out sample
  double generationExact = -1;                        // greedy generation == response, -1 if not run
  int64_t samples = 0;
};

class Trainer {
 public:
  // `world`: the ranks of a data-parallel run (runtime/dist/); each runs its shards of every global
  // batch, the gradients are summed before the update, and rank 0 alone writes metrics, progress and
  // checkpoints.
  Trainer(const TrainConfig& config, compiler::HrmModule& module, Backend& backend, const Tokenizer& tok,
          TokenizedSamples train, std::vector<TextSample> heldOut, std::ostream& out,
          Communicator& world = singleProcess());

  // Fresh weights from the model's initializers (§1.9), seeded by config.seed.
  void initialize();
  // Continues exactly from a checkpoint (weights, optimizer state, step, data position).
  void restore(TrainingState state);
  int64_t totalSteps() const { return totalSteps_; }
  // As of the last checkpoint, evaluation or the end of run() (the backend holds the live state).
  const TrainingState& state() const { return state_; }

  // Runs until the configured end, or until `stop` is set or step `pauseAt` is reached (both checkpoint
  // and return false, to be continued with restore()). Returns whether it finished.
  bool run(const std::atomic<bool>& stop, const std::string& sources, int64_t pauseAt = 0);
  // Teacher-forced loss/accuracy on the held-out samples, and greedy-generation exact match.
  EvalResult evaluate(const WeightMap& weights, bool withGeneration);
  std::vector<double> losses() const { return losses_; }

 private:
  // This rank's micro-batches of the next multipack window: one per shard it runs.
  std::vector<std::vector<int64_t>> nextWindow();
  void checkpoint(const std::string& sources);
  std::string trainStepFor(int K);
  // Every rank must train the same model with the same configuration: a ConfigError naming the
  // ranks that differ from rank 0, raised on every rank alike.
  void checkRanksAgree(const std::string& sources);
  // Sums per-rank scalars (label counts, metric shares) over the ranks, in fp32 on the wire.
  void sumOverRanks(std::vector<double>& values);
  // Binds state_ to the backend, with fresh optimizer state for the trainable weights it lacks.
  void bind();
  // Reads the weights and optimizer state back from the backend into state_.
  void readBack();

  TrainConfig cfg_;
  compiler::HrmModule& module_;
  Backend& backend_;
  const Tokenizer& tok_;
  TokenizedSamples train_;
  std::vector<TextSample> heldOut_;
  TokenizedSamples heldOutTokens_;
  std::ostream& out_;
  TrainingState state_;
  Communicator& world_;
  int64_t shards_ = 1;          // multipack shards per window (train.data_shards, or the world size)
  int64_t windowsPerStep_ = 1;  // windows of shards × micro_batch_tokens that make a global batch
  std::unique_ptr<Training> training_;
  int64_t totalSteps_ = 0;
  int64_t batchesPerEpoch_ = 0;
  int64_t cachedEpoch_ = -1;
  std::vector<std::vector<std::vector<int64_t>>> epochWindows_;  // [window][this rank's shard] → samples
  std::vector<double> losses_;
  int bpMin_ = 1, bpMax_ = 1;
  double bpWarmup_ = 0;
};

// What the model's forward takes, for checkWeightsFit (runtime/exec/WeightCheck.h).
std::vector<WeightNeed> weightNeeds(const compiler::HrmModule& module);

}  // namespace hrmc::runtime
