#include <iostream>
#include <unistd.h>

#include "tools/hrmc/Commands.h"

namespace hrmc::cli {

void ModelOptions::add(CLI::App& cmd) {
  cmd.add_option("file", file, "the .hrm model file")->required();
  cmd.add_option("--preset,-p", preset, "named preset of config values (e.g. tiny, B, L, XL, XXL)");
  cmd.add_option("--set,-s", sets, "override a config value: --set hidden=256 (repeatable, applied last)")
      ->type_name("KEY=VALUE");
  cmd.add_option("--stdlib", stdlib, "folder searched by `import` (default: the stdlib this hrmc was built with, or $HRMC_STDLIB)");
}

bool ModelOptions::toFrontend(dsl::FrontendOptions& out) const {
  out.preset = preset;
  if (!stdlib.empty()) out.stdlibDirs = {stdlib};
  for (const std::string& s : sets) {
    size_t eq = s.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "hrmc: error: --set expects KEY=VALUE, got '" << s << "'\n";
      return false;
    }
    out.overrides.push_back({s.substr(0, eq), s.substr(eq + 1)});
  }
  return true;
}

bool useColor() {
  const char* noColor = std::getenv("NO_COLOR");
  return isatty(STDERR_FILENO) && !(noColor && *noColor);
}

std::unique_ptr<dsl::FrontendResult> compileModel(const ModelOptions& opts) {
  dsl::FrontendOptions fo;
  if (!opts.toFrontend(fo)) return nullptr;
  auto r = dsl::runFrontend(opts.file, fo);
  r->diags.render(std::cerr, useColor());
  return r;
}

}  // namespace hrmc::cli
