#pragma once
// Training checkpoints: one safetensors file holding the weights under their reference names
// (HRM-TEXT.md §1.11, so the file doubles as a reference-format weights file), the optimizer moments,
// EMA and per-parameter step counters, and metadata: step, data position, the resolved run config and
// the .hrm sources the model was compiled from. Written atomically; the checksum is verified on load.
#include <map>
#include <string>

#include "runtime/exec/AdamAtan2.h"

namespace hrmc::runtime {

struct TrainingState {
  int64_t step = 0;          // optimizer steps taken
  int64_t epoch = 0;         // data position: epoch ...
  int64_t microBatch = 0;    // ... and the next micro-batch in it
  std::map<std::string, HostTensor<float>> params;  // weights and buffers
  OptimizerState optimizer;                         // per trainable weight
  std::string configToml;    // the resolved run configuration
  std::string sources;       // JSON: {path: text} of the .hrm files
  std::string modelName;
};

void saveCheckpoint(const std::string& path, const TrainingState& state);
// Throws IoError for an unreadable, corrupt or foreign file.
TrainingState loadCheckpoint(const std::string& path);
// A checkpoint file, or a run/checkpoints folder: the latest checkpoint in it.
std::string resolveCheckpoint(const std::string& fileOrDir);
// Weights to evaluate with: the EMA when the checkpoint has one (the default), else the weights.
std::map<std::string, HostTensor<float>> evaluationWeights(const TrainingState& state, bool useEma);

}  // namespace hrmc::runtime
