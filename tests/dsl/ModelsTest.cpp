// Every model in models/ checks clean at every preset, and the sizes match HRM-TEXT.md §1.1 / §9.
#include <gtest/gtest.h>

#include <cmath>

#include "dsl/report/ModelReport.h"
#include "dsl/sema/Sema.h"
#include "tests/ModelNames.h"

using namespace hrmc::dsl;

namespace {

std::unique_ptr<FrontendResult> check(const std::string& model, const std::string& preset) {
  FrontendOptions o;
  o.preset = preset;
  o.stdlibDirs = {HRMC_STDLIB_DIR};
  return runFrontend(std::string(HRMC_MODELS_DIR) + "/" + model + ".hrm", o);
}

struct SizeRow {
  const char* preset;
  int64_t nonEmbedding, total;
  double flopsK2, flopsK5;
};

TEST(HrmText, ParameterCountsAndFlopsMatchTheSpec) {
  // vocab 65,536; HRM-TEXT.md §1.1 and §9.
  const SizeRow rows[] = {
      {"B", 166'723'584, 300'941'312, 2.403e9, 3.404e9},
      {"L", 526'909'440, 694'681'600, 6.826e9, 9.988e9},
      {"XL", 981'467'136, 1'182'793'728, 1.238e10, 1.827e10},
      {"XXL", 3'038'773'248, 3'273'654'272, 3.717e10, 5.540e10},
      {"XXL_wide", 2'747'269'120, 3'082'813'440, 3.397e10, 5.046e10},
  };
  for (const SizeRow& row : rows) {
    auto r = check("hrm_text", row.preset);
    ASSERT_TRUE(r->ok() && r->graph) << row.preset << "\n" << r->diags.renderToString();
    ModelStats st = computeStats(*r->graph);
    EXPECT_EQ(st.nonEmbeddingParams(), row.nonEmbedding) << row.preset;
    EXPECT_EQ(st.totalParams, row.total) << row.preset;
    EXPECT_NEAR(trainFlopsPerToken(*r->graph, 2) / row.flopsK2, 1.0, 5e-4) << row.preset;
    EXPECT_NEAR(trainFlopsPerToken(*r->graph, 5) / row.flopsK5, 1.0, 5e-4) << row.preset;
  }
}

TEST(HrmText, TinyPresetIsTheGoldenConfig) {
  auto r = check("hrm_text", "tiny");
  ASSERT_TRUE(r->ok());
  ModelStats st = computeStats(*r->graph);
  EXPECT_EQ(st.totalParams, 1'245'184);  // shared/bench README, tiny
  ASSERT_EQ(st.buffers.size(), 1u);
  EXPECT_EQ(st.buffers[0]->name, "model.zL_init");
  EXPECT_EQ(st.buffers[0]->type.dtype, DType::BF16);
  // Reference names of HRM-TEXT.md §1.11, in instantiation order.
  std::vector<std::string> names;
  for (const Weight& w : r->graph->weights) names.push_back(w.name);
  EXPECT_EQ(names.front(), "embed_tokens.embedding_weight");
  EXPECT_EQ(names.back(), "lm_head.weight");
  for (const char* n : {"model.H_level.core.layers.0.attn.gqkv_proj.weight", "model.H_level.core.layers.1.mlp.down_proj.weight",
                        "model.L_level.core.layers.1.attn.o_proj.weight", "model.L_level.core.layers.0.mlp.gate_up_proj.weight"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
}

TEST(Models, EveryModelChecksCleanAtEveryPreset) {
  for (const char* model : hrmc::test::kModelNames)
    for (const char* preset : {"", "tiny", "B", "L", "XL", "XXL"}) {
      auto r = check(model, preset);
      EXPECT_TRUE(r->ok() && r->graph) << model << " " << preset << "\n" << r->diags.renderToString();
      EXPECT_EQ(r->diags.warningCount(), 0u) << model << " " << preset;
    }
}

TEST(Models, BaselinesShareTheHrmFlopsBudgetAsInThePaper) {
  // Transformer: 6N + 6Vd (HRM-TEXT.md §9, XL 6.49e9); RINS at its fixed K=4: 18N + 6Vd like HRM at K=5.
  auto t = check("transformer", "XL");
  ASSERT_TRUE(t->ok());
  EXPECT_NEAR(trainFlopsPerToken(*t->graph, 0), 6.0 * 981'467'136 + 6.0 * 65536 * 1536, 1.0);
  auto rins = check("rins", "XL");
  ASSERT_TRUE(rins->ok());
  EXPECT_NEAR(trainFlopsPerToken(*rins->graph, 4), 18.0 * 981'467'136 + 6.0 * 65536 * 1536, 1.0);
  auto trm = check("trm", "XL");
  ASSERT_TRUE(trm->ok());
  EXPECT_EQ(trm->graph->steps.size(), 4u);
}

}  // namespace
