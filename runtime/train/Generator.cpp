#include "runtime/train/Generator.h"

#include <cmath>
#include <limits>

namespace hrmc::runtime {

std::vector<std::string> generate(Backend& backend, const WeightMap& weights, const Tokenizer& tok,
                                  const std::vector<Prompt>& prompts, const GenerateOptions& options) {
  const size_t n = prompts.size();
  std::vector<std::vector<int32_t>> prefix(n), generated(n);
  std::vector<bool> done(n, false);
  for (size_t i = 0; i < n; ++i) {
    prefix[i] = tok.instruction(prompts[i].text, prompts[i].condition);
    // A prompt that leaves no room to generate returns "" (as the reference engine does).
    if (static_cast<int64_t>(prefix[i].size()) >= options.maxContext) done[i] = true;
  }
  SplitMix64 rng(options.seed);
  std::unique_ptr<Backend::IncrementalForward> cached = backend.incrementalForward(weights);
  for (int64_t step = 0; step < options.maxTokens; ++step) {
    // With the KV cache: each unfinished prompt's new tokens (the prompt, then the last generated
    // token). Without: every unfinished prompt with all it has generated so far.
    PackedBatch b;
    std::vector<size_t> who;
    std::vector<int> sequences;
    std::vector<int64_t> last;
    for (size_t i = 0; i < n; ++i) {
      if (done[i]) continue;
      const int64_t P = static_cast<int64_t>(prefix[i].size()), C = static_cast<int64_t>(generated[i].size());
      if (cached && step > 0) {
        b.inputs.push_back(generated[i].back());
        b.seq.positions.push_back(static_cast<int32_t>(P + C - 1));
        b.seq.prefixLens.push_back(1);
        b.seq.causalLens.push_back(0);
      } else {
        b.inputs.insert(b.inputs.end(), prefix[i].begin(), prefix[i].end());
        b.inputs.insert(b.inputs.end(), generated[i].begin(), generated[i].end());
        for (int64_t p = 0; p < P + C; ++p) b.seq.positions.push_back(static_cast<int32_t>(p));
        b.seq.prefixLens.push_back(static_cast<int32_t>(P));
        b.seq.causalLens.push_back(static_cast<int32_t>(C));
      }
      who.push_back(i);
      sequences.push_back(static_cast<int>(i));
      last.push_back(static_cast<int64_t>(b.inputs.size()) - 1);
    }
    if (who.empty()) break;
    b.labels.assign(b.inputs.size(), -100);
    b.seq.build();
    const HostTensor<float> logits = cached ? cached->run(b, sequences) : backend.run("forward", b, weights).at(0);
    const int64_t V = logits.shape[1];
    for (size_t j = 0; j < who.size(); ++j) {
      const float* row = logits.data.data() + last[j] * V;
      int64_t best = 0;
      double bestScore = -std::numeric_limits<double>::infinity();
      for (int64_t v = 0; v < tok.vocabSize() && v < V; ++v) {
        double score = row[v];
        if (options.temperature >= 1e-5) {
          const double u = std::max(rng.uniform(), std::numeric_limits<double>::min());
          score = score / options.temperature - std::log(-std::log(u));
        }
        if (score > bestScore) {
          bestScore = score;
          best = v;
        }
      }
      const size_t i = who[j];
      if (best == tok.eoa()) {
        done[i] = true;
        continue;
      }
      generated[i].push_back(static_cast<int32_t>(best));
      if (static_cast<int64_t>(prefix[i].size() + generated[i].size()) >= options.maxContext) done[i] = true;
    }
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) out.push_back(tok.decode(generated[i]));
  return out;
}

}  // namespace hrmc::runtime
