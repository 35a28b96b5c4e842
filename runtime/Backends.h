#pragma once
// The one place that knows every backend: their names and how each is made for a model.
#include <memory>
#include <string>

#include "runtime/exec/Backend.h"

namespace hrmc::compiler {
class HrmModule;
}

namespace hrmc::runtime {

// "cpu" (the fused, JIT-compiled CPU backend; the default) and "reference" (op-by-op loops).
inline const char* const kBackendNames[] = {"cpu", "reference"};  // the first is the default
// "cpu (default) or reference", for help texts and hints.
std::string backendList();
// Throws ExecError for an unknown name.
std::unique_ptr<Backend> makeBackend(const std::string& name, compiler::HrmModule& module);
// Compiles the model's functions for `target` ("cpu"), for the backends that run compiled programs.
ProgramCompiler compilerFor(compiler::HrmModule& module, const std::string& target);

}  // namespace hrmc::runtime
