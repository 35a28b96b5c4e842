#pragma once
// The CPU target's binary: the object files of the kernels (compiled in parallel, one per part) as
// sections (compiler/codegen/Sections.h). Written by the CPU code generator, read by the CPU
// runtime's loader; MLIR-free.
#include <string>

#include "compiler/codegen/Sections.h"

namespace hrmc::compiler {

// The symbol a kernel's packed entry `void(void** args)` has in the objects.
inline std::string packedEntrySymbol(const std::string& kernel) { return "_mlir__mlir_ciface_" + kernel; }

}  // namespace hrmc::compiler
