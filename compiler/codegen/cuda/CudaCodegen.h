#pragma once
// The CUDA code generator: bufferized kernels → CUDA C (CudaCPrinter) → NVRTC → CUBIN for one real
// architecture with its ptxas report, and PTX for the matching virtual one, bundled (CudaBundle.h).
// Internal to compiler/.
#include <memory>
#include <string>

#include "compiler/codegen/Target.h"

namespace hrmc::compiler {

// `arch` is sm_XX ("" for sm_90, the default without a device).
std::unique_ptr<Target> makeCudaTarget(const std::string& arch);

}  // namespace hrmc::compiler
