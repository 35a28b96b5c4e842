#include "compiler/kernels/KernelProgram.h"

#include <sstream>

namespace hrmc::compiler {

std::string Launch::name() const {
  if (kind == LaunchKind::Rope && inverse) return "rope_inverse";
  switch (kind) {
    case LaunchKind::Fused: return kernel;
#define HRMC_LIBRARY_LAUNCH(Kind, name, HrmOp) \
  case LaunchKind::Kind: return name;
#include "compiler/kernels/LibraryLaunches.def"
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
