#include "runtime/exec/DeviceTraining.h"

#include <algorithm>

namespace hrmc::runtime {

DeviceTraining::DeviceTraining(Device& device, Runners runners, const WeightMap& params, const OptimizerState& state,
                               const AdamAtan2Config& config, Communicator& communicator)
    : device_(device), runners_(std::move(runners)), config_(config), communicator_(communicator) {
  checkOptimizerStateFits(params, state, config);
  for (const auto& [name, w] : params) {
    Param& p = params_[name];
    p.shape = w.shape;
    p.numel = w.numel();
    p.w = upload(w);
    auto s = state.find(name);
    if (s == state.end()) continue;
    const ParamState& st = s->second;
    p.trainable = true;
    p.step = st.step;
    p.m = upload(st.expAvg);
    p.v = upload(st.expAvgSq);
    if (config_.emaDecay > 0) p.ema = upload(st.ema);
    p.grad = DeviceBuffer(device_, p.numel * static_cast<int64_t>(sizeof(float)));
    device_.zero(p.grad.f32(), p.numel);
  }
  for (const auto& [name, p] : params_) views_[name] = {p.w.f32(), &p.shape};
}

DeviceBuffer DeviceTraining::upload(const HostTensor<float>& t) {
  const int64_t bytes = t.numel() * static_cast<int64_t>(sizeof(float));
  DeviceBuffer b(device_, bytes);
  device_.copyToDevice(b.data(), t.data.data(), bytes);
  return b;
}

HostTensor<float> DeviceTraining::download(const DeviceBuffer& b, const std::vector<int64_t>& shape) const {
  HostTensor<float> t(shape);
  device_.copyToHost(t.data.data(), b.data(), t.numel() * static_cast<int64_t>(sizeof(float)));
  return t;
}

void DeviceTraining::keepBf16Copies(const compiler::KernelProgram& program) {
  if (bf16Copies_) return;  // made once, then kept current by step()
  const bool readsBf16 = std::any_of(program.values.begin(), program.values.end(), [&](const compiler::ProgramValue& v) {
    return v.argument >= 0 && v.type == compiler::ElementType::BF16 && params_.count(program.argumentNames[v.argument]);
  });
  if (!readsBf16) return;
  bf16Copies_ = true;
  for (auto& [name, p] : params_) {
    p.bf16 = DeviceBuffer(device_, p.numel * static_cast<int64_t>(sizeof(uint16_t)));
    device_.roundToBf16(p.w.f32(), reinterpret_cast<uint16_t*>(p.bf16.data()), p.numel);
    views_[name].bf16 = reinterpret_cast<const uint16_t*>(p.bf16.data());
  }
}

StepScalars DeviceTraining::accumulate(const std::string& function, const std::vector<std::string>& gradientNames,
                                       const PackedBatch& batch, double weight) {
  ProgramRunner& runner = runners_(function);
  keepBf16Copies(runner.program());
  runner.run(batch, views_);
  checkTrainStepResults(function, runner.resultCount(), gradientNames);
  float scalars[3];
  for (int i = 0; i < 3; ++i) device_.copyToHost(&scalars[i], runner.result(i).data, sizeof(float));
  for (size_t i = 0; i < gradientNames.size(); ++i) {
    auto p = params_.find(gradientNames[i]);
    if (p == params_.end() || !p->second.trainable) continue;  // a buffer's gradient: nothing to update
    const DeviceTensor& g = runner.result(3 + i);
    if (g.shape != p->second.shape)
      throw ExecError("the gradient of '" + gradientNames[i] + "' has shape " + shapeString(g.shape) + ", the weight " +
                      shapeString(p->second.shape));
    device_.accumulate(p->second.grad.f32(), g.f32(), static_cast<float>(weight), p->second.numel);
    p->second.hasGradient = true;
  }
  return {scalars[0], scalars[1], scalars[2]};
}

void DeviceTraining::step(double lr) {
  for (auto& [name, p] : params_) {
    if (!p.hasGradient) continue;  // skipped entirely, as the reference does
    communicator_.allReduceSum(p.grad.f32(), p.numel);
    p.step += 1.0f;
    device_.adamAtan2({p.w.f32(), p.grad.f32(), p.m.f32(), p.v.f32(), config_.emaDecay > 0 ? p.ema.f32() : nullptr,
                       p.bf16.bytes() > 0 ? reinterpret_cast<uint16_t*>(p.bf16.data()) : nullptr},
                      p.numel, adamAtan2Step(config_, p.step, lr));
    device_.zero(p.grad.f32(), p.numel);
    p.hasGradient = false;
  }
}

WeightMap DeviceTraining::parameters() const {
  WeightMap out;
  for (const auto& [name, p] : params_) out[name] = download(p.w, p.shape);
  return out;
}

OptimizerState DeviceTraining::optimizerState() const {
  OptimizerState out;
  for (const auto& [name, p] : params_) {
    if (!p.trainable) continue;
    ParamState& s = out[name];
    s.expAvg = download(p.m, p.shape);
    s.expAvgSq = download(p.v, p.shape);
    if (config_.emaDecay > 0) s.ema = download(p.ema, p.shape);
    s.step = p.step;
  }
  return out;
}

int64_t DeviceTraining::residentBytes() const {
  int64_t bytes = 0;
  for (const auto& [name, p] : params_)
    bytes += p.w.bytes() + p.bf16.bytes() + p.grad.bytes() + p.m.bytes() + p.v.bytes() + p.ema.bytes();
  return bytes;
}

}  // namespace hrmc::runtime
