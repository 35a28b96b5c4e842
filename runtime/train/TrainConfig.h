#pragma once
// A training run's settings. Read from TOML (TrainConfigToml.cpp) with every key validated; the
// defaults are the embedded run of the README's main job: the tiny HRM-Text on a built-in task.
#include <cstdint>
#include <string>
#include <vector>

namespace hrmc::runtime {

struct TrainConfig {
  // model
  std::string model = "models/hrm_text.hrm";
  std::string preset = "tiny";
  std::vector<std::pair<std::string, std::string>> modelSet;  // model config overrides (like --set)
  std::string output = "runs/hrm_text_tiny";
  uint64_t seed = 0;
  // data
  std::string task = "reverse";  // built-in generator, used when `train` is empty
  std::string trainFile;         // JSONL
  std::string evalFile;          // JSONL (held out)
  int64_t trainSamples = 6000;
  int64_t evalSamples = 200;
  int taskMinLen = 2;
  int taskMaxLen = 5;
  bool targetOnly = true;  // response-only labels; a model with `objective all_tokens` overrides it
  bool skipBadLines = false;
  bool skipLongSamples = false;  // leave out (and count) samples longer than micro_batch_tokens
  // optimisation (HRM-TEXT.md §4)
  int64_t steps = 500;  // 0: use epochs
  int64_t epochs = 0;
  int64_t batchTokens = 512;
  int64_t microBatchTokens = 512;
  // Multipack shards of the global batch (HRM-TEXT.md §3.4), each micro_batch_tokens; 0: one per rank.
  // The data order depends on it, so one process with data_shards = N reproduces an N-rank run.
  int64_t dataShards = 0;
  double lr = 2e-3;
  double lrMinRatio = 0.1;
  int64_t lrWarmupSteps = 20;
  double weightDecay = 0.1;
  double beta1 = 0.9;
  double beta2 = 0.95;
  double ema = 0.99;
  // credit window (HRM-TEXT.md §2); 0 = the model's declaration
  int bpMinSteps = 0;
  int bpMaxSteps = 0;
  double bpWarmupRatio = -1;
  // cadence
  int64_t logInterval = 10;
  int64_t evalInterval = 100;
  int64_t checkpointInterval = 250;
  int64_t generateExamples = 4;  // generations printed at the end
  std::string backend = "cpu";
  // fp32 | bf16 | auto (bf16 where the backend multiplies bf16 natively); a run folder's config records
  // the precision that was used.
  std::string precision = "auto";
};

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Reads a TOML file over the defaults. Unknown keys get a did-you-mean, wrong types or ranges name
// the key path; throws ConfigError.
TrainConfig loadTrainConfig(const std::string& path, TrainConfig base = {});
// The same from TOML text (a checkpoint's stored configuration); `name` appears in messages.
TrainConfig parseTrainConfig(const std::string& text, const std::string& name);
// Applies "section.key=value" overrides (the same keys as the file).
void applyOverrides(TrainConfig& config, const std::vector<std::string>& overrides);
// The resolved configuration as TOML text (stored in checkpoints, printed by --dry-run).
std::string toToml(const TrainConfig& config);

}  // namespace hrmc::runtime
