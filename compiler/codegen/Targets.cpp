// The one place that knows every code generator.
#include "compiler/codegen/Target.h"
#include "compiler/codegen/cpu/CpuCodegen.h"
#include "compiler/codegen/cuda/CudaCodegen.h"
#include "compiler/kernels/KernelProgram.h"

namespace hrmc::compiler {

std::unique_ptr<Target> makeTarget(const std::string& name, std::string& error) {
  if (name == "cpu") return makeCpuTarget();
  if (name == "cuda") return makeCudaTarget("");
  if (name.rfind("cuda:sm_", 0) == 0) return makeCudaTarget(name.substr(5));
  std::string names;
  for (const TargetInfo& t : targets()) names += (names.empty() ? "" : ", ") + std::string(t.name);
  error = "unknown target '" + name + "'\nhint: the targets are " + names + " (cuda:sm_XX for an architecture)";
  return nullptr;
}

}  // namespace hrmc::compiler
