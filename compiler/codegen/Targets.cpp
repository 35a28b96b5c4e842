// The one place that knows every code generator.
#include "compiler/codegen/Target.h"
#include "compiler/codegen/cpu/CpuCodegen.h"
#include "compiler/kernels/KernelProgram.h"

namespace hrmc::compiler {

std::unique_ptr<Target> makeTarget(const std::string& name, std::string& error) {
  if (name == "cpu") return makeCpuTarget();
  std::string names;
  for (const TargetInfo& t : targets()) names += (names.empty() ? "" : ", ") + std::string(t.name);
  error = "unknown target '" + name + "'\nhint: the targets are " + names;
  return nullptr;
}

}  // namespace hrmc::compiler
