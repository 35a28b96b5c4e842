#include "compiler/codegen/cuda/CudaCodegen.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "compiler/DebugLevel.h"
#include "compiler/codegen/cuda/CudaBundle.h"
#include "compiler/codegen/cuda/CudaCPrinter.h"
#include "compiler/codegen/cuda/DeviceHeader.h"
#include "compiler/codegen/cuda/Nvrtc.h"
#include "compiler/codegen/cuda/Occupancy.h"

namespace hrmc::compiler {

namespace {

class CudaTarget final : public Target {
 public:
  explicit CudaTarget(std::string arch) : arch_(std::move(arch)) {}

  std::string name() const override { return "cuda:" + arch_; }
  std::string cacheKey() const override {
    std::string error;
    const Nvrtc* nvrtc = Nvrtc::get(error);
    return "cuda " + arch_ + " nvrtc " + (nvrtc ? nvrtc->version() : "none") + " header " +
           std::to_string(std::hash<std::string>()(cudaDeviceHeader()));
  }

  // Without NVRTC the bundle holds the source and the launch shapes only (what the host emulation
  // runs); the cache key says "nvrtc none", so an entry made so is rebuilt once NVRTC is there.
  bool generate(mlir::ModuleOp kernels, std::string& binary, std::string& error) const override {
    CudaBundle bundle;
    if (!source(kernels, bundle, error)) return false;
    std::string why;
    if (Nvrtc::get(why) && !compile(bundle, /*cubin=*/true, /*ptx=*/true, error)) return false;
    if (debugLevel() >= 3) std::fprintf(stderr, "[hrmc] CUDA C:\n%s\n", bundle.source.c_str());
    if (debugLevel() >= 4) std::fprintf(stderr, "[hrmc] PTX (%s):\n%s\n", bundle.arch.c_str(), bundle.ptx.c_str());
    binary = bundle.pack();
    return true;
  }

  bool definesKernels(const std::string& binary, const std::vector<std::string>& kernels, std::string& why) const override {
    CudaBundle bundle;
    if (!bundle.unpack(binary)) {
      why = "not a CUDA bundle";
      return false;
    }
    for (const std::string& k : kernels)
      if (std::none_of(bundle.kernels.begin(), bundle.kernels.end(), [&](const CudaKernelShape& s) { return s.name == k; })) {
        why = "no kernel " + k;
        return false;
      }
    return true;
  }

  // cuda: the generated source; ptx: NVRTC's PTX for compute_XX; report: ptxas's figures per kernel.
  bool print(mlir::ModuleOp kernels, const std::string& stage, std::string& out, std::string& error) const override {
    CudaBundle bundle;
    if (!source(kernels, bundle, error)) return false;
    if (stage == "cuda") {
      out = bundle.source;
      return true;
    }
    const bool ptx = stage == "ptx";  // otherwise the report: ptxas runs for the CUBIN only
    if (!compile(bundle, !ptx, ptx, error)) return false;
    out = ptx ? bundle.ptx : report(bundle);
    return true;
  }

 private:
  static bool source(mlir::ModuleOp kernels, CudaBundle& bundle, std::string& error) {
    CudaSource s;
    if (!printCudaKernels(kernels, s, error)) return false;
    bundle.source = std::move(s.text);
    bundle.kernels = std::move(s.kernels);
    return true;
  }

  // NVRTC's CUBIN for the architecture (with ptxas's report) and/or PTX for the matching virtual one.
  bool compile(CudaBundle& bundle, bool cubin, bool ptx, std::string& error) const {
    const Nvrtc* nvrtc = Nvrtc::get(error);
    if (!nvrtc) return false;
    bundle.arch = arch_;
    NvrtcResult out;
    if (cubin) {
      if (!nvrtc->compile(bundle.source, "hrmc_kernels.cu", cudaHeaders(), arch_, {}, out, error)) return false;
      bundle.cubin = std::move(out.binary);
      bundle.ptxasLog = std::move(out.log);
    }
    if (ptx) {
      if (!nvrtc->compile(bundle.source, "hrmc_kernels.cu", cudaHeaders(), "compute_" + arch_.substr(3), {}, out, error))
        return false;
      bundle.ptx = std::move(out.binary);
    }
    return true;
  }

  static std::string report(const CudaBundle& bundle) {
    std::ostringstream os;
    const std::vector<PtxasReport> ptxas = parsePtxasReport(bundle.ptxasLog);
    os << "// " << bundle.kernels.size() << " kernels for " << bundle.arch << " (ptxas -v; occupancy at the launch's "
       << "block size)\n";
    char line[256];
    std::snprintf(line, sizeof line, "%-12s %-9s %7s %5s %6s %7s %7s %9s\n", "kernel", "mapping", "threads", "regs",
                  "spills", "smem", "stack", "occupancy");
    os << line;
    for (const CudaKernelShape& k : bundle.kernels) {
      auto r = std::find_if(ptxas.begin(), ptxas.end(), [&](const PtxasReport& p) { return p.kernel == k.name; });
      if (r == ptxas.end()) {
        os << k.name << ": no ptxas report\n";
        continue;
      }
      const double occ = occupancy(bundle.arch, k.threads, r->registers, r->sharedBytes);
      std::snprintf(line, sizeof line, "%-12s %-9s %7d %5d %6lld %7lld %7lld %8.0f%%\n", k.name.c_str(), spell(k.mapping),
                    k.threads, r->registers, static_cast<long long>(r->spillStores + r->spillLoads),
                    static_cast<long long>(r->sharedBytes), static_cast<long long>(r->stackBytes), occ * 100);
      os << line;
    }
    return os.str();
  }

  std::string arch_;
};

}  // namespace

std::unique_ptr<Target> makeCudaTarget(const std::string& arch) {
  return std::make_unique<CudaTarget>(arch.empty() ? "sm_90" : arch);
}

}  // namespace hrmc::compiler
