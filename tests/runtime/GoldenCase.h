#pragma once
// HRM-Text at the micro preset compiled to hrm, with the weights and batch of its PyTorch golden case
// (tests/golden/micro, written by tools/golden/make-golden.py).
#include <gtest/gtest.h>

#include "compiler/HrmModule.h"
#include "dsl/sema/Sema.h"
#include "runtime/io/ArrayDir.h"
#include "runtime/reference/ReferenceExecutor.h"

namespace hrmc::testing {

struct GoldenCase {
  std::unique_ptr<dsl::FrontendResult> fe;
  std::unique_ptr<compiler::HrmModule> module;
  runtime::ArrayDir golden{std::string(HRMC_GOLDEN_DIR) + "/micro"};
  runtime::WeightMap weights;
  runtime::PackedBatch batch;

  GoldenCase() {
    dsl::FrontendOptions o;
    o.preset = "micro";
    o.stdlibDirs = {HRMC_STDLIB_DIR};
    fe = dsl::runFrontend(std::string(HRMC_MODELS_DIR) + "/hrm_text.hrm", o);
    EXPECT_TRUE(fe->ok()) << fe->diags.renderToString();
    std::string error;
    module = compiler::HrmModule::fromGraph(*fe->graph, fe->sources, error);
    EXPECT_TRUE(module && module->runCleanupPipeline(error)) << error;
    weights = golden.named("params_init");
    weights["model.zL_init"] = golden.floats("zL_init");
    batch = golden.batch();
  }
};

}  // namespace hrmc::testing
