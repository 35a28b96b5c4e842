#pragma once
// Loads the CPU target's binary (an object bundle, compiler/codegen/cpu/ObjectBundle.h) into an ORC
// JIT: object code in, callable kernels out. Links LLVM's ORC, no MLIR.
#include <memory>
#include <string>

#include "runtime/cpu/JitModule.h"

namespace hrmc::runtime::cpu {

// Null with `error` for bytes that are not a bundle of loadable objects.
std::unique_ptr<JitModule> loadKernels(const std::string& binary, std::string& error);

}  // namespace hrmc::runtime::cpu
