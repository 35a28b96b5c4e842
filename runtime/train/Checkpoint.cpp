#include "runtime/train/Checkpoint.h"

#include <filesystem>
#include <fstream>

#include "runtime/checkpoint/Safetensors.h"

namespace hrmc::runtime {

namespace fs = std::filesystem;

namespace {
constexpr const char* kFormat = "hrmc-checkpoint-1";
const std::string kAvg = "optimizer.exp_avg.", kAvgSq = "optimizer.exp_avg_sq.", kEma = "ema.", kStep = "optimizer.step.";
}  // namespace

void saveCheckpoint(const std::string& path, const TrainingState& s) {
  SafetensorsFile f;
  f.tensors = s.params;
  for (const auto& [name, st] : s.optimizer) {
    f.tensors[kAvg + name] = st.expAvg;
    f.tensors[kAvgSq + name] = st.expAvgSq;
    if (!st.ema.data.empty()) f.tensors[kEma + name] = st.ema;
    f.tensors[kStep + name] = HostTensor<float>({1}, st.step);
  }
  f.metadata = {{"format", kFormat},
                {"hrmc.step", std::to_string(s.step)},
                {"hrmc.epoch", std::to_string(s.epoch)},
                {"hrmc.micro_batch", std::to_string(s.microBatch)},
                {"hrmc.config", s.configToml},
                {"hrmc.sources", s.sources},
                {"hrmc.model", s.modelName}};
  fs::create_directories(fs::path(path).parent_path());
  writeSafetensors(path, f);
}

TrainingState loadCheckpoint(const std::string& path) {
  SafetensorsFile f = readSafetensors(path);
  auto meta = [&](const char* key) -> const std::string& {
    auto it = f.metadata.find(key);
    if (it == f.metadata.end()) throw IoError(path + ": not an hrmc checkpoint (no " + key + " in its metadata)");
    return it->second;
  };
  if (meta("format") != kFormat) throw IoError(path + ": unsupported checkpoint format '" + meta("format") + "'");
  TrainingState s;
  try {
    s.step = std::stoll(meta("hrmc.step"));
    s.epoch = std::stoll(meta("hrmc.epoch"));
    s.microBatch = std::stoll(meta("hrmc.micro_batch"));
  } catch (const std::logic_error&) {
    throw IoError(path + ": corrupt checkpoint metadata (step or data position)");
  }
  s.configToml = meta("hrmc.config");
  s.sources = meta("hrmc.sources");
  s.modelName = meta("hrmc.model");
  for (auto& [name, t] : f.tensors) {
    auto strip = [&](const std::string& prefix) { return name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : std::string(); };
    if (std::string n = strip(kAvg); !n.empty()) s.optimizer[n].expAvg = std::move(t);
    else if (std::string n2 = strip(kAvgSq); !n2.empty()) s.optimizer[n2].expAvgSq = std::move(t);
    else if (std::string n3 = strip(kEma); !n3.empty()) s.optimizer[n3].ema = std::move(t);
    else if (std::string n4 = strip(kStep); !n4.empty()) s.optimizer[n4].step = t.data.empty() ? 0 : t.data[0];
    else s.params[name] = std::move(t);
  }
  for (const auto& [name, st] : s.optimizer)
    if (!s.params.count(name) || st.expAvg.shape != s.params[name].shape)
      throw IoError(path + ": optimizer state for '" + name + "' does not match the weights");
  return s;
}

std::string resolveCheckpoint(const std::string& fileOrDir) {
  if (fs::is_regular_file(fileOrDir)) return fileOrDir;
  for (const fs::path& dir : {fs::path(fileOrDir), fs::path(fileOrDir) / "checkpoints"}) {
    std::ifstream latest(dir / "latest");
    std::string name;
    if (latest && std::getline(latest, name) && fs::is_regular_file(dir / name)) return (dir / name).string();
  }
  throw IoError(fileOrDir + ": no checkpoint there (expected a .safetensors file or a run folder with checkpoints/latest)");
}

std::map<std::string, HostTensor<float>> evaluationWeights(const TrainingState& s, bool useEma) {
  std::map<std::string, HostTensor<float>> w = s.params;
  if (useEma)
    for (const auto& [name, st] : s.optimizer)
      if (!st.ema.data.empty()) w[name] = st.ema;
  return w;
}

}  // namespace hrmc::runtime
