#include "runtime/exec/ProgramRunner.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "compiler/DebugLevel.h"
#include "runtime/exec/LaunchCost.h"
#include "runtime/exec/WeightCheck.h"

namespace hrmc::runtime {

using compiler::ElementType;
using compiler::Launch;
using compiler::LaunchKind;

WeightViews viewsOf(const WeightMap& weights) {
  WeightViews views;
  for (const auto& [name, w] : weights) views[name] = {w.data.data(), &w.shape};
  return views;
}

ProgramRunner::ProgramRunner(const compiler::CompiledProgram& compiled, Device& device)
    : program_(compiled.program), device_(device), kernels_(device.load(compiled)), debug_(compiler::debugLevel()) {}

const MemoryPlan& ProgramRunner::plan(int64_t T) {
  if (plan_.tokens != T || plan_.offsets.empty()) {
    plan_ = planMemory(program_, T);
    if (debug_ >= 1)
      std::fprintf(stderr, "[hrmc] %s at T = %lld: arena %.1f MiB planned (live-set peak %.1f MiB)\n",
                   program_.function.c_str(), static_cast<long long>(T), plan_.arenaBytes / 1048576.0,
                   plan_.liveBytesPeak / 1048576.0);
  }
  return plan_;
}

void ProgramRunner::run(const PackedBatch& batch, const WeightViews& weights) {
  const PackedSeq& seq = batch.seq;
  const int64_t T = seq.tokens();
  if (static_cast<int64_t>(batch.inputs.size()) != T || static_cast<int64_t>(batch.labels.size()) != T)
    throw BatchError("the batch has " + std::to_string(batch.inputs.size()) + " tokens and " +
                     std::to_string(batch.labels.size()) + " labels for " + std::to_string(T) + " positions");
  const MemoryPlan& mp = plan(T);
  if (arena_.bytes() < mp.arenaBytes) arena_ = DeviceBuffer(device_, std::max<int64_t>(kArenaAlignment, mp.arenaBytes));
  const int64_t intBytes = T * static_cast<int64_t>(sizeof(int32_t));
  if (batchBuffer_.bytes() < 2 * intBytes + kArenaAlignment)
    batchBuffer_ = DeviceBuffer(device_, 2 * intBytes + 2 * kArenaAlignment);

  // Bind every value to memory: arguments to the batch and the weights, the rest to the arena.
  const size_t n = program_.values.size();
  std::vector<DeviceTensor> at(n);
  bf16Arguments_.clear();
  char* const tokensAt = batchBuffer_.data();
  char* const labelsAt = batchBuffer_.data() + (intBytes + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
  bool tokensUsed = false, labelsUsed = false;
  for (size_t v = 0; v < n; ++v) {
    const compiler::ProgramValue& pv = program_.values[v];
    DeviceTensor& t = at[v];
    t.type = pv.type;
    t.shape = pv.shape;
    for (int64_t& d : t.shape)
      if (d < 0) d = T;
    if (pv.argument < 0) {
      t.data = arena_.data() + mp.offsets[v];
      continue;
    }
    const std::string& name = program_.argumentNames[pv.argument];
    if (name == "tokens" || name == "labels") {
      t.data = name == "tokens" ? tokensAt : labelsAt;
      (name == "tokens" ? tokensUsed : labelsUsed) = true;
      continue;
    }
    auto w = weights.find(name);
    checkWeightShape(name, w == weights.end() ? nullptr : w->second.shape, t.shape);
    if (pv.type == ElementType::BF16 && w->second.bf16) {  // the optimizer's bf16 copy
      t.data = reinterpret_cast<char*>(const_cast<uint16_t*>(w->second.bf16));
    } else if (pv.type == ElementType::BF16) {  // round what the caller bound (a weight's copy, zL_init)
      DeviceBuffer& bits = bf16Arguments_.emplace_back(device_, std::max<int64_t>(kArenaAlignment, t.bytes()));
      device_.roundToBf16(w->second.data, reinterpret_cast<uint16_t*>(bits.data()), t.numel());
      t.data = bits.data();
    } else {
      t.data = reinterpret_cast<char*>(const_cast<float*>(w->second.data));
    }
  }
  for (auto [v, vocab] : program_.tokenChecks) {
    const std::string& name = program_.argumentNames.at(program_.values[v].argument);
    const std::vector<int32_t>& tok = name == "labels" ? batch.labels : batch.inputs;
    for (int64_t t = 0; t < T; ++t)
      if (tok[t] < 0 || tok[t] >= vocab)
        throw ExecError("token id " + std::to_string(tok[t]) + " at position " + std::to_string(t) +
                        " is outside the vocabulary [0, " + std::to_string(vocab) + ")");
  }
  if (tokensUsed) device_.copyToDevice(tokensAt, batch.inputs.data(), intBytes);
  if (labelsUsed) device_.copyToDevice(labelsAt, batch.labels.data(), intBytes);

  int64_t live = 0;
  std::map<LaunchKind, int> ordinals;
  measuredPeak_ = 0;
  for (size_t i = 0; i < program_.launches.size(); ++i) {
    const Launch& l = program_.launches[i];
    LaunchArgs args{l, i, ordinals[l.kind]++, {}, {}, seq};
    for (int v : l.inputs) args.in.push_back(at[v]);
    for (int v : l.outputs) args.out.push_back(at[v]);
    for (int v : l.outputs) live += mp.bytes[v];
    measuredPeak_ = std::max(measuredPeak_, live);
    const auto start = std::chrono::steady_clock::now();
    switch (l.kind) {
      case LaunchKind::Fused:
        kernels_->launch(args);
        break;
#define HRMC_LIBRARY_LAUNCH(Kind, name, HrmOp) \
  case LaunchKind::Kind:                       \
    device_.launch##Kind(args);                \
    break;
#include "compiler/kernels/LibraryLaunches.def"
    }
    if (debug_ >= 1) {
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      double bytes = 0;
      for (const DeviceTensor& t : args.in) bytes += static_cast<double>(t.bytes());
      for (const DeviceTensor& t : args.out) bytes += static_cast<double>(t.bytes());
      const LaunchCost cost = launchCost(args);
      std::fprintf(stderr, "[hrmc] %-18s %-15s %9.3f ms %8.1f GFLOP/s %7.1f GB/s  %s\n", l.name().c_str(),
                   cost.dims.c_str(), seconds * 1e3, cost.flops / seconds * 1e-9, bytes / seconds * 1e-9,
                   l.location.c_str());
    }
    std::vector<int> ending;  // values whose last use was this launch
    for (int v : l.inputs) ending.push_back(v);
    for (int v : l.outputs) ending.push_back(v);
    std::sort(ending.begin(), ending.end());
    ending.erase(std::unique(ending.begin(), ending.end()), ending.end());
    for (int v : ending)
      if (program_.values[v].argument < 0 && mp.lastLaunch[v] == static_cast<int>(i)) live -= mp.bytes[v];
  }
  results_.clear();
  for (int v : program_.results) results_.push_back(at[v]);
}

HostTensor<float> ProgramRunner::hostResult(size_t i) const {
  const DeviceTensor& t = results_.at(i);
  HostTensor<float> r(t.shape);
  if (t.type == ElementType::F32) {
    device_.copyToHost(r.data.data(), t.data, t.bytes());
  } else if (t.type == ElementType::I32) {
    std::vector<int32_t> ints(r.data.size());
    device_.copyToHost(ints.data(), t.data, t.bytes());
    for (size_t e = 0; e < ints.size(); ++e) r.data[e] = static_cast<float>(ints[e]);
  } else {
    throw ExecError("a bf16 result is not supported");
  }
  return r;
}

std::vector<HostTensor<float>> ProgramRunner::hostResults() const {
  std::vector<HostTensor<float>> all;
  for (size_t i = 0; i < results_.size(); ++i) all.push_back(hostResult(i));
  return all;
}

}  // namespace hrmc::runtime
