#pragma once
// NVRTC, loaded at run time (dlopen), so hrmc builds, runs and passes its tests on machines without
// the CUDA toolkit: CUDA C → CUBIN for a real architecture (with the ptxas report) or PTX for a
// virtual one. No GPU is needed to compile. MLIR-free.
#include <cstdint>
#include <string>
#include <vector>

namespace hrmc::compiler {

struct NvrtcHeader {
  std::string name, text;  // what `#include "name"` finds
};

struct NvrtcResult {
  std::string binary;  // CUBIN for sm_XX, PTX text for compute_XX
  std::string log;     // the program log: warnings, and the ptxas report for sm_XX
};

class Nvrtc {
 public:
  // The library, loaded once: $HRMC_NVRTC, else libnvrtc under $CUDA_PATH, the toolkit hrmc was
  // built beside and /usr/local/cuda, else the loader's search path. Null with `error` (naming where
  // it looked) when there is none.
  static const Nvrtc* get(std::string& error);

  std::string version() const;  // "13.0"
  std::string path() const { return path_; }
  // `arch` is "sm_90" (CUBIN) or "compute_90" (PTX). The source needs no toolkit headers: every
  // header it includes is in `headers`. False with `error` (the log included) when it does not compile.
  bool compile(const std::string& source, const std::string& name, const std::vector<NvrtcHeader>& headers,
               const std::string& arch, const std::vector<std::string>& extraOptions, NvrtcResult& out,
               std::string& error) const;

 private:
  Nvrtc() = default;
  struct Api;
  const Api* api_ = nullptr;
  std::string path_;
};

// ptxas's report (-Xptxas=-v) per kernel.
struct PtxasReport {
  std::string kernel, arch;
  int registers = 0, barriers = 0;
  int64_t stackBytes = 0, spillStores = 0, spillLoads = 0, sharedBytes = 0;
};
std::vector<PtxasReport> parsePtxasReport(const std::string& log);

}  // namespace hrmc::compiler
