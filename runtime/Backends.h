#pragma once
// The one place that knows every backend: their names and how each is made for a model.
#include <memory>
#include <string>

#include "compiler/precision/Precision.h"
#include "runtime/exec/Backend.h"

namespace hrmc::compiler {
class HrmModule;
}

namespace hrmc::runtime {

// "cpu" (the fused, JIT-compiled CPU backend; the default), "reference" (op-by-op loops) and "cuda"
// (NVIDIA GPUs: its kernels compile today, its runtime is not built yet).
inline const char* const kBackendNames[] = {"cpu", "reference", "cuda"};  // the first is the default
// "cpu (default) or reference", for help texts and hints.
std::string backendList();
// Throws ExecError for an unknown name, DeviceUnavailable for a backend that cannot run here.
std::unique_ptr<Backend> makeBackend(const std::string& name, compiler::HrmModule& module);
// --precision / train.precision: "fp32", "bf16", or "auto" (bf16 where `backend` multiplies bf16
// natively, else fp32). Throws ExecError for another word.
compiler::Precision choosePrecision(const std::string& choice, const Backend& backend);
// Compiles the model's functions for `target` ("cpu"), for the backends that run compiled programs.
ProgramCompiler compilerFor(compiler::HrmModule& module, const std::string& target);

}  // namespace hrmc::runtime
