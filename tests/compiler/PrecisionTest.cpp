// The bf16 contract (compiler/precision/Precision.h): a row for every hrm op and an op for every row,
// the README's copy equal to it, and every model's train steps compiled for bf16 with their weight
// gradients in fp32.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "compiler/HrmModule.h"
#include "compiler/precision/Precision.h"
#include "dsl/sema/Sema.h"
#include "tests/ModelNames.h"
#include "tests/compiler/CompileModel.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OperationSupport.h"

using namespace hrmc;

namespace {

using test::compileModel;

TEST(Bf16Contract, HasARowForEveryHrmOpAndAnOpForEveryRow) {
  auto m = compileModel("hrm_text", "tiny");
  ASSERT_TRUE(m);
  std::set<std::string> ops;
  for (mlir::RegisteredOperationName op : m->context().getRegisteredOperations())
    if (op.getDialectNamespace() == "hrm") ops.insert(op.stripDialect().str());
  ASSERT_GT(ops.size(), 30u);
  for (const std::string& op : ops) EXPECT_NE(compiler::findOpPrecision(op), nullptr) << "no contract row for hrm." << op;
  for (const compiler::OpPrecision& row : compiler::kBf16Contract) {
    EXPECT_TRUE(ops.count(row.op)) << "the contract names hrm." << row.op << ", which does not exist";
    EXPECT_TRUE(std::string(row.stored) == "bf16" || std::string(row.stored) == "f32") << row.op;
  }
}

TEST(Bf16Contract, TheReadmeShowsTheSameTable) {
  std::ifstream in(HRMC_README);
  std::stringstream text;
  text << in.rdbuf();
  const std::string readme = text.str();
  ASSERT_FALSE(readme.empty()) << HRMC_README;
  for (const compiler::OpPrecision& row : compiler::kBf16Contract) {
    const std::string line = std::string("| `") + row.op + "` | " + row.stored + " | " + row.computes + " |\n";
    EXPECT_NE(readme.find(line), std::string::npos) << "README.md lacks the contract row\n" << line;
  }
}

// Every model compiles for bf16 and its train steps pass the contract check (HrmModule checks each
// one it builds); forward and loss keep their fp32 interface, and each weight's gradient is fp32.
TEST(Bf16Contract, EveryModelsTrainStepsCompileForBf16) {
  for (const char* model : hrmc::test::kModelNames) {
    auto m = compileModel(model, "tiny");
    ASSERT_TRUE(m);
    std::string error;
    ASSERT_TRUE(m->setPrecision(compiler::Precision::BF16, error)) << model << ": " << error;
    EXPECT_EQ(m->precision(), compiler::Precision::BF16);
    EXPECT_FALSE(m->setPrecision(compiler::Precision::F32, error)) << "a bf16 module went back to fp32";
    const auto credit = m->credit();
    const int maxK = credit.maxSteps > 0 ? credit.maxSteps : credit.recurrentSteps;
    const std::string fn = m->trainStep(maxK, error);
    ASSERT_FALSE(fn.empty()) << model << ": " << error;
    const std::string ir = m->printFunction(fn, false);
    EXPECT_NE(ir.find("xbf16>"), std::string::npos) << model << ": no bf16 values";
    // fp32 loss, metrics and gradients out (only buffers such as zL_init come in as bf16).
    const size_t arrow = ir.find(") -> (");
    const std::string results = ir.substr(arrow, ir.find(')', arrow + 6) - arrow);
    EXPECT_EQ(results.find("bf16"), std::string::npos) << model << ": " << results;
    for (const auto& w : m->weights()) EXPECT_FALSE(w.bf16 && w.trainable) << model << " " << w.name;
  }
}

}  // namespace
