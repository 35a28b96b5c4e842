#include "runtime/train/Backend.h"

#include "runtime/cpu/CpuBackend.h"

namespace hrmc::runtime {

std::unique_ptr<Backend> makeBackend(const std::string& name, compiler::HrmModule& module) {
  if (name == "cpu") return std::make_unique<cpu::CpuBackend>(module);
  if (name == "reference") return std::make_unique<ReferenceBackend>(module);
  throw ExecError("unknown backend '" + name + "'\nhint: the backends are cpu (default) and reference");
}

}  // namespace hrmc::runtime
