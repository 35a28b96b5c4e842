#pragma once
// The CUDA target's binary: the generated source, each kernel's launch shape, and NVRTC's output for
// one architecture (CUBIN, the PTX fallback, ptxas's report; empty where NVRTC was missing), as
// sections (compiler/codegen/Sections.h). Written by the CUDA code generator, read by the CUDA runtime and the host emulation; MLIR-free.
#include <sstream>
#include <string>
#include <vector>

#include "compiler/codegen/Sections.h"
#include "compiler/codegen/cuda/CudaKernelShape.h"

namespace hrmc::compiler {

struct CudaBundle {
  std::string arch;  // sm_80, sm_90, ...
  std::string source;
  std::vector<CudaKernelShape> kernels;
  std::string cubin, ptx, ptxasLog;

  std::string pack() const {
    std::ostringstream shapes;
    for (const CudaKernelShape& k : kernels)
      shapes << k.name << ' ' << static_cast<int>(k.mapping) << ' ' << k.threads << ' ' << k.sharedBytes << ' '
             << k.pointers << ' ' << k.workPerToken << ' ' << k.workFixed << '\n';
    return joinSections({"hrmc-cuda-1", arch, source, shapes.str(), cubin, ptx, ptxasLog});
  }
  // False when the bytes are not a CUDA bundle of this version.
  bool unpack(std::string_view bytes) {
    std::vector<std::string_view> parts;
    if (!splitSections(bytes, parts) || parts.size() != 7 || parts[0] != "hrmc-cuda-1") return false;
    arch = parts[1];
    source = parts[2];
    cubin = parts[4];
    ptx = parts[5];
    ptxasLog = parts[6];
    kernels.clear();
    std::istringstream shapes{std::string(parts[3])};
    CudaKernelShape k;
    int mapping = 0;
    while (shapes >> k.name >> mapping >> k.threads >> k.sharedBytes >> k.pointers >> k.workPerToken >> k.workFixed) {
      if (mapping < 0 || mapping > static_cast<int>(CudaMapping::OneBlock)) return false;
      k.mapping = static_cast<CudaMapping>(mapping);
      kernels.push_back(k);
    }
    return shapes.eof();
  }
};

}  // namespace hrmc::compiler
