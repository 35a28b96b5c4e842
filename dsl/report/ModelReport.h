#pragma once
// What `hrmc check` prints about an elaborated model: parameter counts per module, the recurrence
// schedule with the credit window at each K, and model FLOPs per token (HRM-TEXT.md §9).
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "dsl/sema/ModelGraph.h"
#include "dsl/sema/Sema.h"

namespace hrmc::dsl {

struct ModuleParams {
  std::string path;  // module path, truncated to two levels ("model.H_level")
  int64_t params = 0;
};

struct ModelStats {
  int64_t totalParams = 0;      // trainable weights
  int64_t embeddingParams = 0;  // token embedding table + output head
  int64_t nonEmbeddingParams() const { return totalParams - embeddingParams; }
  std::vector<ModuleParams> modules;
  std::vector<const Weight*> buffers;
};

ModelStats computeStats(const ModelGraph& g);

// Linear-layer model FLOPs per token for a train step at credit window K: 2 per weight element
// used forward, 4 more per use in a step (or non-recurrent op) that carries gradient.
double trainFlopsPerToken(const ModelGraph& g, int K);
double forwardFlopsPerToken(const ModelGraph& g);

// The credit windows a model trains with: min..max, or just the number of steps without a window.
std::vector<int> creditWindowRange(const ModelGraph& g);

// explainCredit: also say how the credit split gives each level its share at every K.
void printCheckReport(std::ostream& os, const FrontendResult& fe, bool explainCredit = false);

}  // namespace hrmc::dsl
