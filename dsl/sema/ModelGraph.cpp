#include "dsl/sema/ModelGraph.h"

#include "dsl/sema/CreditSplit.h"

#include <algorithm>

namespace hrmc::dsl {

const char* spell(DType t) {
  switch (t) {
    case DType::F32: return "f32";
    case DType::BF16: return "bf16";
    case DType::I32: return "i32";
  }
  return "?";
}

const char* spell(MaskKind m) {
  switch (m) {
    case MaskKind::PrefixLM: return "prefixlm";
    case MaskKind::Causal: return "causal";
    case MaskKind::Full: return "full";
  }
  return "?";
}

MaskKind maskFromSpelling(std::string_view spelling) {
  if (spelling == "causal") return MaskKind::Causal;
  if (spelling == "full") return MaskKind::Full;
  return MaskKind::PrefixLM;
}

const char* spell(OpKind k) {
  switch (k) {
    case OpKind::Input: return "input";
    case OpKind::Weight: return "weight";
    case OpKind::Constant: return "constant";
    case OpKind::Embedding: return "embedding";
    case OpKind::Linear: return "linear";
    case OpKind::MatMul: return "matmul";
    case OpKind::Add: return "add";
    case OpKind::Sub: return "sub";
    case OpKind::Mul: return "mul";
    case OpKind::Div: return "div";
    case OpKind::Neg: return "neg";
    case OpKind::Sigmoid: return "sigmoid";
    case OpKind::Silu: return "silu";
    case OpKind::Exp: return "exp";
    case OpKind::Tanh: return "tanh";
    case OpKind::Sqrt: return "sqrt";
    case OpKind::RmsNorm: return "rms_norm";
    case OpKind::Rope: return "rope";
    case OpKind::Attention: return "attention";
    case OpKind::Softmax: return "softmax";
    case OpKind::Sum: return "sum";
    case OpKind::Mean: return "mean";
    case OpKind::Max: return "max";
    case OpKind::Reshape: return "reshape";
    case OpKind::Slice: return "slice";
    case OpKind::Concat: return "concat";
    case OpKind::Broadcast: return "broadcast";
    case OpKind::CrossEntropy: return "cross_entropy";
    case OpKind::StopGradient: return "stop_gradient";
    case OpKind::Convert: return "convert";
  }
  return "?";
}

int64_t TensorType::numelWithoutT() const {
  int64_t n = 1;
  for (int64_t d : dims)
    if (d != kDimT) n *= d;
  return n;
}

std::string TensorType::str() const {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += ", ";
    std::string name = i < names.size() ? names[i] : "";
    if (dims[i] == kDimT) {
      s += "T";
    } else if (!name.empty() && name != std::to_string(dims[i])) {
      s += name + "=" + std::to_string(dims[i]);
    } else {
      s += std::to_string(dims[i]);
    }
  }
  return s + "] " + spell(dtype);
}

int ModelGraph::countSteps(const std::string& level) const {
  return static_cast<int>(std::count_if(steps.begin(), steps.end(), [&](const Step& s) { return s.level == level; }));
}

std::vector<std::string> ModelGraph::stepLevels() const {
  std::vector<std::string> out;
  for (const Step& s : steps) out.push_back(s.level);
  return out;
}

std::vector<bool> ModelGraph::stepsWithGrad(int K) const {
  if (!credit.declared) return std::vector<bool>(steps.size(), true);
  std::vector<bool> grad = stepsInCreditWindow(K, splitOrder(), stepLevels());
  // Sema checks the declared window against the recurrence; a K outside it runs every step forward-only.
  if (grad.empty()) grad.assign(steps.size(), false);
  return grad;
}

std::vector<bool> ModelGraph::nodesWithGrad(int K) const {
  const std::vector<bool> stepGrad = stepsWithGrad(K);
  std::vector<bool> live(nodes.size(), false);
  if (output < 0) return live;
  live[output] = true;
  for (size_t i = nodes.size(); i-- > 0;) {
    const Node& n = nodes[i];
    if (!live[i] || n.op == OpKind::StopGradient) continue;
    if (n.step >= 0 && !stepGrad[n.step]) continue;
    for (int in : n.inputs) live[in] = true;
  }
  return live;
}

}  // namespace hrmc::dsl
