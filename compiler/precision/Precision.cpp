#include "compiler/precision/Precision.h"

namespace hrmc::compiler {

const char* spell(Precision p) { return p == Precision::BF16 ? "bf16" : "fp32"; }

std::optional<Precision> parsePrecision(const std::string& s) {
  if (s == "fp32") return Precision::F32;
  if (s == "bf16") return Precision::BF16;
  return std::nullopt;
}

const OpPrecision* findOpPrecision(const std::string& op) {
  for (const OpPrecision& row : kBf16Contract)
    if (op == row.op) return &row;
  return nullptr;
}

}  // namespace hrmc::compiler
