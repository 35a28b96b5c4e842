// train_step against the PyTorch gradients of tests/golden/micro at credit windows K = 2 and K = 5
// (issue: autodiff), on the reference executor and on the fused CPU backend. At K = 2 the embedding
// gets no gradient at all.
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>

#include "tests/runtime/GoldenCase.h"
#include "compiler/HrmModule.h"
#include "dsl/sema/Sema.h"
#include "runtime/io/ArrayDir.h"
#include "runtime/reference/ReferenceExecutor.h"
#include "runtime/Backends.h"

using namespace hrmc;
using namespace hrmc::runtime;

namespace {

using Tiny = hrmc::testing::GoldenCase;

void checkGradients(int K, const char* key, const std::string& backendName) {
  Tiny t;
  std::string error;
  const std::string fn = t.module->trainStep(K, error);
  ASSERT_FALSE(fn.empty()) << error;
  const std::vector<HostTensor<float>> results = makeBackend(backendName, *t.module)->run(fn, t.batch, t.weights);
  const std::vector<std::string> names = t.module->gradientNames(fn);
  ASSERT_EQ(results.size(), 3 + names.size());
  EXPECT_NEAR(results[0].data[0], t.golden.manifest()["loss"].get<double>(), 1e-5);

  std::map<std::string, HostTensor<float>> want = t.golden.named(key);
  EXPECT_EQ(names.size(), want.size()) << "weights with a gradient";
  double worstAbs = 0, worstRel = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    auto it = want.find(names[i]);
    ASSERT_NE(it, want.end()) << names[i] << " has a gradient but PyTorch's is None";
    const HostTensor<float>& g = results[3 + i];
    ASSERT_EQ(g.shape, it->second.shape) << names[i];
    double maxAbs = 0, maxRef = 0;
    for (size_t j = 0; j < g.data.size(); ++j) {
      maxAbs = std::max(maxAbs, std::fabs(double(g.data[j]) - it->second.data[j]));
      maxRef = std::max(maxRef, std::fabs(double(it->second.data[j])));
    }
    EXPECT_LE(maxAbs, 1e-5) << names[i];
    EXPECT_LE(maxAbs / maxRef, 1e-3) << names[i] << " (max |grad| " << maxRef << ")";
    worstAbs = std::max(worstAbs, maxAbs);
    worstRel = std::max(worstRel, maxAbs / maxRef);
  }
  std::cout << backendName << " K=" << K << ": " << names.size() << " gradients, worst max abs error " << worstAbs
            << ", worst relative " << worstRel << "\n";
}

TEST(GoldenTiny, GradientsMatchPyTorchAtK2) { checkGradients(2, "grads_bp2", "reference"); }
TEST(GoldenTiny, GradientsMatchPyTorchAtK5) { checkGradients(5, "grads_bp5", "reference"); }
TEST(GoldenTiny, CpuBackendGradientsMatchPyTorchAtK2) { checkGradients(2, "grads_bp2", "cpu"); }
TEST(GoldenTiny, CpuBackendGradientsMatchPyTorchAtK5) { checkGradients(5, "grads_bp5", "cpu"); }

TEST(GoldenTiny, EmbeddingHasNoGradientAtK2) {
  Tiny t;
  std::string error;
  const std::string fn = t.module->trainStep(2, error);
  ASSERT_FALSE(fn.empty()) << error;
  std::vector<std::string> names = t.module->gradientNames(fn);
  EXPECT_EQ(std::count(names.begin(), names.end(), "embed_tokens.embedding_weight"), 0);
  EXPECT_EQ(names.size(), 17u);  // 16 layer weights + lm_head; zL_init is a buffer
  EXPECT_EQ(t.module->gradientNames(t.module->trainStep(3, error)).size(), 18u);
}

TEST(GoldenTiny, TrainStepVariantsAreCachedPerK) {
  Tiny t;
  std::string error;
  EXPECT_EQ(t.module->trainStep(4, error), "train_step_k4");
  EXPECT_EQ(t.module->trainStep(4, error), "train_step_k4");
  EXPECT_EQ(t.module->trainStep(9, error), "");
  EXPECT_NE(error.find("does not fit a recurrence of 8 steps"), std::string::npos) << error;
}

}  // namespace
