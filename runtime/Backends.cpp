#include "runtime/Backends.h"

#include <iterator>

#include "compiler/HrmModule.h"
#include "runtime/cpu/CpuBackend.h"
#include "runtime/cuda/Driver.h"
#include "runtime/reference/ReferenceBackend.h"

namespace hrmc::runtime {

std::string backendList() {
  std::string s = std::string(kBackendNames[0]) + " (default)";
  for (size_t i = 1; i < std::size(kBackendNames); ++i) s += std::string(i + 1 == std::size(kBackendNames) ? " or " : ", ") + kBackendNames[i];
  return s;
}

ProgramCompiler compilerFor(compiler::HrmModule& module, const std::string& target) {
  return [&module, target](const std::string& function, std::string& error) { return module.compile(function, target, error); };
}

compiler::Precision choosePrecision(const std::string& choice, const Backend& backend) {
  if (choice == "auto") return backend.nativeBf16() ? compiler::Precision::BF16 : compiler::Precision::F32;
  if (auto p = compiler::parsePrecision(choice)) return *p;
  throw ExecError("precision '" + choice + "' is not one of auto, fp32, bf16");
}

std::unique_ptr<Backend> makeBackend(const std::string& name, compiler::HrmModule& module) {
  if (name == "cpu") return std::make_unique<cpu::CpuBackend>(compilerFor(module, "cpu"));
  if (name == "reference") return std::make_unique<ReferenceBackend>(module);
  if (name == "cuda") {
    std::string error;
    const cuda::Driver* driver = cuda::Driver::get(error);
    if (!driver) throw DeviceUnavailable(error);
    const cuda::GpuInfo& g = driver->gpus().front();
    throw DeviceUnavailable("found " + g.name + " (" + g.arch() + ", " + std::to_string(g.multiprocessors) +
                            " SMs, CUDA driver " + driver->versionText() +
                            "), but hrmc's CUDA runtime is not built yet; its kernels compile: hrmc inspect FILE "
                            "--target cuda --arch " + g.arch() + " --report\nhint: use --backend cpu");
  }
  throw ExecError("unknown backend '" + name + "'\nhint: the backends are " + backendList());
}

}  // namespace hrmc::runtime
