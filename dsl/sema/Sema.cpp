#include "dsl/sema/Sema.h"

#include <cstdlib>

#include "dsl/sema/Elaborator.h"

#ifndef HRMC_STDLIB_DIR
#define HRMC_STDLIB_DIR ""
#endif

namespace hrmc::dsl {

std::vector<std::string> defaultStdlibDirs() {
  if (const char* env = std::getenv("HRMC_STDLIB"); env && *env) return {env};
  return {HRMC_STDLIB_DIR};
}

std::unique_ptr<FrontendResult> runFrontend(const std::string& path, const FrontendOptions& options,
                                            const std::string* text) {
  auto r = std::make_unique<FrontendResult>();
  r->program = std::make_unique<Program>(r->sources, r->diags,
                                         options.stdlibDirs.empty() ? defaultStdlibDirs() : options.stdlibDirs);
  const bool loaded = text ? r->program->loadText(path, *text) : r->program->load(path);
  if (!loaded || r->diags.hasErrors()) return r;
  Elaborator elab(*r->program, r->diags);
  elab.checkDeclarations();
  if (r->diags.hasErrors()) return r;
  r->preset = options.preset;
  r->config = elab.resolveConfig(options.preset, options.overrides);
  if (r->diags.hasErrors()) return r;
  r->graph = elab.elaborateModel();
  if (r->diags.hasErrors()) r->graph.reset();
  return r;
}

}  // namespace hrmc::dsl
