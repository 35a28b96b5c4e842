#include "compiler/KernelProgram.h"

#include <sstream>

namespace hrmc::compiler {

std::string Launch::name() const {
  switch (kind) {
    case LaunchKind::Fused: return kernel;
    case LaunchKind::Linear: return "linear";
    case LaunchKind::MatMul: return "matmul";
    case LaunchKind::OuterSum: return "outer_sum";
    case LaunchKind::Rope: return inverse ? "rope_inverse" : "rope";
    case LaunchKind::Attention: return "attention";
    case LaunchKind::AttentionGrad: return "attention_grad";
    case LaunchKind::CrossEntropy: return "cross_entropy";
    case LaunchKind::CrossEntropyGrad: return "cross_entropy_grad";
    case LaunchKind::ArgmaxMatch: return "argmax_match";
    case LaunchKind::LabelMean: return "label_mean";
    case LaunchKind::LabelMeanGrad: return "label_mean_grad";
    case LaunchKind::ExactMatch: return "exact_match";
    case LaunchKind::EmbeddingGrad: return "embedding_grad";
    case LaunchKind::RmsNormGrad: return "rms_norm_grad";
    case LaunchKind::Unbroadcast: return "unbroadcast";
    case LaunchKind::MaxGrad: return "max_grad";
  }
  return "?";
}

namespace {

std::string describe(const KernelProgram& p, int id) {
  const ProgramValue& v = p.values[id];
  std::string s = "%" + std::to_string(id);
  if (v.argument >= 0) s += "(" + p.argumentNames[v.argument] + ")";
  s += "[";
  for (size_t i = 0; i < v.shape.size(); ++i) s += (i ? "x" : "") + (v.shape[i] < 0 ? std::string("T") : std::to_string(v.shape[i]));
  s += v.type == ElementType::F32 ? "]f32" : v.type == ElementType::BF16 ? "]bf16" : "]i32";
  return s;
}

}  // namespace

std::string formatProgram(const KernelProgram& p) {
  std::ostringstream os;
  os << "// " << p.function << ": " << p.launches.size() << " launches\n";
  for (size_t i = 0; i < p.launches.size(); ++i) {
    const Launch& l = p.launches[i];
    os << "launch " << i << ": " << l.name();
    if (l.kind == LaunchKind::Fused) os << " (" << l.ops << (l.ops == 1 ? " op" : " ops") << (l.rowParallel ? ", split over rows" : "") << ")";
    os << "\n    reads";
    for (int v : l.inputs) os << " " << describe(p, v);
    os << "\n    writes";
    for (int v : l.outputs) os << " " << describe(p, v);
    if (!l.location.empty()) os << "\n    from " << l.location;
    os << "\n";
  }
  os << "results:";
  for (int v : p.results) os << " " << describe(p, v);
  os << "\n";
  return os.str();
}

}  // namespace hrmc::compiler
