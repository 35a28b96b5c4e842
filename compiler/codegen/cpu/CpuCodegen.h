#pragma once
// The CPU code generator: bufferized kernels → math approximations (polynomial exp/tanh) → loops →
// the LLVM dialect → LLVM IR optimised at -O3 for the host CPU (vectorised) → host object code, one
// module per core compiled in parallel, bundled (ObjectBundle.h). The CPU runtime loads the bundle
// into an ORC JIT. Internal to compiler/.
#include <memory>

#include "compiler/codegen/Target.h"

namespace hrmc::compiler {

std::unique_ptr<Target> makeCpuTarget();

}  // namespace hrmc::compiler
