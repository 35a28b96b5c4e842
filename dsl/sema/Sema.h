#pragma once
// The front end's entry point: load a .hrm file with its imports, resolve the configuration (defaults
// < preset < --set overrides), instantiate the model and elaborate it into a ModelGraph.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dsl/diag/Diagnostics.h"
#include "dsl/sema/ModelGraph.h"
#include "dsl/sema/Program.h"

namespace hrmc::dsl {

struct ConfigOverride {
  std::string key;
  std::string value;
};

struct FrontendOptions {
  std::string preset;                       // empty: the config defaults
  std::vector<ConfigOverride> overrides;    // --set key=value, applied last
  std::vector<std::string> stdlibDirs;      // where `import "x.hrm"` looks after the importing folder
};

struct ConfigValue {
  std::string name;
  std::string type;    // int, float, bool or an enum name
  std::string text;    // the value as written back (e.g. "128", "1e-06", "prefixlm")
  std::string source;  // "default", "preset tiny" or "--set"
  double number = 0;   // numeric value for int/float/bool
  std::string doc;
};

struct FrontendResult {
  SourceManager sources;
  DiagEngine diags{sources};
  std::unique_ptr<Program> program;
  std::vector<ConfigValue> config;
  std::string preset;
  std::optional<ModelGraph> graph;  // set when the root file declares a model and it elaborated cleanly
  bool ok() const { return !diags.hasErrors(); }
};

// Runs parse + sema. With `text`, the root file's contents come from memory (named `path`).
std::unique_ptr<FrontendResult> runFrontend(const std::string& path, const FrontendOptions& options,
                                            const std::string* text = nullptr);

// The stdlib folder compiled into this build, overridable with HRMC_STDLIB.
std::vector<std::string> defaultStdlibDirs();

}  // namespace hrmc::dsl
