#pragma once
// JIT-compiled kernels (the fused kernels of a KernelProgram), behind an MLIR-free interface.
#include <memory>
#include <string>

namespace mlir {
class ExecutionEngine;
}

namespace hrmc::compiler {

class JitModule {
 public:
  // A kernel through MLIR's packed C interface: args[i] points to the i-th argument, which is a
  // pointer to a memref descriptor {allocated, aligned, offset, sizes[rank], strides[rank]}; the
  // kernel's inputs come first, then its outputs (destination-passing style, no result).
  using Kernel = void (*)(void** args);

  explicit JitModule(std::unique_ptr<mlir::ExecutionEngine> engine);
  ~JitModule();
  // The kernel named `name` (fused_0, ...), or null when there is none.
  Kernel kernel(const std::string& name) const;

 private:
  std::unique_ptr<mlir::ExecutionEngine> engine_;
};

}  // namespace hrmc::compiler
