#pragma once
// The CUDA C printer: bufferized kernels (linalg loop nests on memrefs, compiler/kernels/) → one CUDA C
// source that uses only the device vocabulary of stdlib/cuda/hrm_device.cuh, and the launch shape of
// each kernel (CudaKernelShape.h). The same source compiles for the GPU through NVRTC and for the host
// (the header's host half) so tests run the printed code itself. Internal to compiler/ (MLIR).
#include <string>
#include <vector>

#include "compiler/codegen/cuda/CudaKernelShape.h"

namespace mlir {
class ModuleOp;
}

namespace hrmc::compiler {

struct CudaSource {
  std::string text;
  std::vector<CudaKernelShape> kernels;  // in the module's order
};

// Fails with `error` naming the kernel and the construct it cannot print.
bool printCudaKernels(mlir::ModuleOp kernels, CudaSource& out, std::string& error);

}  // namespace hrmc::compiler
