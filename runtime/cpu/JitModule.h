#pragma once
// The fused kernels of a compiled program, loaded into an ORC JIT (KernelLoader.h): an MLIR-free handle.
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "compiler/codegen/cpu/ObjectBundle.h"

namespace hrmc::runtime::cpu {

class JitModule {
 public:
  // A kernel through MLIR's packed C interface: args[i] points to the i-th argument, which is a
  // pointer to a memref descriptor {allocated, aligned, offset, sizes[rank], strides[rank]}; the
  // kernel's inputs come first, then its outputs (destination-passing style, no result).
  using Kernel = void (*)(void** args);
  // Finds a symbol's address in the JIT (null when absent); `owner` keeps the JIT alive.
  using Lookup = std::function<void*(const std::string& symbol)>;

  JitModule(std::shared_ptr<void> owner, Lookup lookup) : owner_(std::move(owner)), lookup_(std::move(lookup)) {}
  // The kernel named `name` (fused_0, ...), or null when there is none. The first lookup of a name
  // links it; later ones are a map lookup.
  Kernel kernel(const std::string& name) const {
    auto [it, isNew] = kernels_.try_emplace(name, nullptr);
    if (isNew) it->second = reinterpret_cast<Kernel>(lookup_(compiler::packedEntrySymbol(name)));
    return it->second;
  }

 private:
  std::shared_ptr<void> owner_;
  Lookup lookup_;
  mutable std::map<std::string, Kernel> kernels_;
};

}  // namespace hrmc::runtime::cpu
