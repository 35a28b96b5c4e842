#pragma once
// A model of models/ at a preset, lowered and cleaned up: the setup the compiler tests share. Null
// after a failed expectation; `fe` (when given) keeps the front end's result.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "compiler/HrmModule.h"
#include "dsl/sema/Sema.h"

namespace hrmc::test {

inline std::unique_ptr<compiler::HrmModule> compileModel(const std::string& model, const std::string& preset,
                                                         std::unique_ptr<dsl::FrontendResult>* fe = nullptr) {
  dsl::FrontendOptions o;
  o.preset = preset;
  o.stdlibDirs = {HRMC_STDLIB_DIR};
  std::unique_ptr<dsl::FrontendResult> r = dsl::runFrontend(std::string(HRMC_MODELS_DIR) + "/" + model + ".hrm", o);
  EXPECT_TRUE(r->ok() && r->graph) << model << r->diags.renderToString();
  if (!r->ok() || !r->graph) return nullptr;
  std::string error;
  auto m = compiler::HrmModule::fromGraph(*r->graph, r->sources, error);
  EXPECT_TRUE(m && m->runCleanupPipeline(error)) << model << ": " << error;
  if (fe) *fe = std::move(r);
  return m;
}

}  // namespace hrmc::test
