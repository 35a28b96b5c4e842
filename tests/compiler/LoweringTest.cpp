// Every model in models/ lowers to verified hrm IR at every preset, with one tagged hrm.step per
// recurrent step and the reference weight names on the function arguments.
#include <gtest/gtest.h>

#include <regex>

#include "compiler/HrmModule.h"
#include "dsl/sema/Sema.h"
#include "tests/ModelNames.h"
#include "tests/compiler/CompileModel.h"

using namespace hrmc;

namespace {

TEST(Lowering, EveryModelAtEveryPresetVerifies) {
  for (const char* model : hrmc::test::kModelNames)
    for (const char* preset : {"tiny", "B", "L", "XL", "XXL"}) {
      dsl::FrontendOptions o;
      o.preset = preset;
      o.stdlibDirs = {HRMC_STDLIB_DIR};
      auto fe = dsl::runFrontend(std::string(HRMC_MODELS_DIR) + "/" + model + ".hrm", o);
      ASSERT_TRUE(fe->ok() && fe->graph) << model << " " << preset << fe->diags.renderToString();
      std::string error;
      auto m = compiler::HrmModule::fromGraph(*fe->graph, fe->sources, error);
      ASSERT_TRUE(m) << model << " " << preset << ": " << error;
      ASSERT_TRUE(m->runCleanupPipeline(error)) << model << " " << preset << ": " << error;
      const std::string ir = m->print(false);
      size_t steps = 0;
      for (size_t p = ir.find("hrm.step \""); p != std::string::npos; p = ir.find("hrm.step \"", p + 1)) ++steps;
      EXPECT_EQ(steps, 2 * fe->graph->steps.size()) << model << " " << preset << " (forward and loss)";
      EXPECT_NE(ir.find("{hrm.name = \"lm_head.weight\"}"), std::string::npos) << model;
      EXPECT_NE(ir.find("func.func @loss"), std::string::npos) << model;
    }
}

// Every model builds a verified train step at every credit window of its declared range (the
// three-level model at K = 3..6 included), and one past the range is refused with a clear reason.
TEST(Lowering, EveryModelBuildsATrainStepAtEveryCreditWindow) {
  for (const char* model : hrmc::test::kModelNames) {
    std::unique_ptr<dsl::FrontendResult> fe;
    auto m = test::compileModel(model, "tiny", &fe);
    ASSERT_TRUE(m) << model;
    std::string error;
    const auto credit = m->credit();
    if (credit.recurrentSteps == 0) continue;
    const int lo = credit.maxSteps > 0 ? credit.minSteps : credit.recurrentSteps;
    const int hi = credit.maxSteps > 0 ? credit.maxSteps : credit.recurrentSteps;
    for (int K = lo; K <= hi; ++K) EXPECT_FALSE(m->trainStep(K, error).empty()) << model << " K=" << K << ": " << error;
    error.clear();
    EXPECT_TRUE(m->trainStep(credit.recurrentSteps + 1, error).empty()) << model;
    EXPECT_NE(error.find("does not fit a recurrence of " + std::to_string(credit.recurrentSteps) + " steps"), std::string::npos)
        << model << ": " << error;
  }
}

TEST(Lowering, LocationsPointIntoTheHrmSources) {
  dsl::FrontendOptions o;
  o.preset = "tiny";
  o.stdlibDirs = {HRMC_STDLIB_DIR};
  auto fe = dsl::runFrontend(std::string(HRMC_MODELS_DIR) + "/hrm_text.hrm", o);
  ASSERT_TRUE(fe->ok());
  std::string error;
  auto m = compiler::HrmModule::fromGraph(*fe->graph, fe->sources, error);
  ASSERT_TRUE(m) << error;
  const std::string ir = m->print(true);
  // The L step is the state update in hrm_text.hrm; its MagicNorm is the stdlib's magicnorm member.
  EXPECT_NE(ir.find("} " + std::string(HRMC_MODELS_DIR) + "/hrm_text.hrm:42:9"), std::string::npos);
  EXPECT_NE(ir.find("magicnorm} : tensor<?x128xf32> "), std::string::npos);
  EXPECT_NE(ir.find("nn.hrm:65:3\n"), std::string::npos);  // relative or absolute, by working folder
}

}  // namespace

namespace {

// The kernels stage applies to every model, forward, loss and train step alike: every fused kernel
// is linalg/tensor/arith/math only (the library ops became launches).
TEST(Lowering, EveryFusedKernelLowersToLinalgForEveryModel) {
  for (const char* model : hrmc::test::kModelNames) {
    std::unique_ptr<dsl::FrontendResult> fe;
    auto m = test::compileModel(model, "tiny", &fe);
    ASSERT_TRUE(m) << model;
    std::string error;
    const int K = fe->graph->credit.declared ? fe->graph->credit.maxSteps : 1;
    const std::string step = m->trainStep(K, error);
    ASSERT_FALSE(step.empty()) << model << ": " << error;
    for (const std::string& fn : {std::string("forward"), std::string("loss"), step}) {
      std::string ir;
      ASSERT_TRUE(m->printKernels(fn, "kernels", "cpu", "", false, ir, error)) << model << " " << fn << ": " << error;
      // An hrm op prints as `= hrm.op` or, without results, `hrm.op` first on its line; attributes
      // such as hrm.row_parallel may stay.
      EXPECT_FALSE(std::regex_search(ir, std::regex("(= |\n *)hrm\\."))) << model << " " << fn << " keeps an hrm op in a fused kernel";
      EXPECT_NE(ir.find("linalg.generic"), std::string::npos) << model << " " << fn;
    }
  }
}

}  // namespace
