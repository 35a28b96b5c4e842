#pragma once
// PrefixLM generation (HRM-TEXT.md §5.1-5.3). With a backend that offers it (the CPU backend), a
// per-step, per-layer KV cache (§5.2): the prompts are prefilled once, then each decode step runs
// `forward` over one new token per prompt. Otherwise by full recompute: every decode step runs
// `forward` on the prompts packed as samples (prefix = prompt, causal part = tokens generated so far).
// Either way the logits at each sample's last position pick the next token: greedy below temperature
// 1e-5, else Gumbel-max sampling.
#include <string>
#include <vector>

#include "runtime/data/Packing.h"
#include "runtime/data/Tokenizer.h"
#include "runtime/exec/Backend.h"

namespace hrmc::runtime {

struct GenerateOptions {
  double temperature = 0;
  int64_t maxTokens = 64;  // generated tokens per prompt (EOA excluded)
  int64_t maxContext = 256;
  uint64_t seed = 0;
};

struct Prompt {
  std::string text;
  std::string condition = "direct";
};

// Responses for the prompts (EOA stripped), in order.
std::vector<std::string> generate(Backend& backend, const WeightMap& weights, const Tokenizer& tok,
                                  const std::vector<Prompt>& prompts, const GenerateOptions& options);

}  // namespace hrmc::runtime
