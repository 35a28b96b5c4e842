#pragma once
// Built-in instruction→response tasks, deterministic by seed, in the same form users bring
// (TextSample / the JSONL of HRM-TEXT.md §3.3). Used by the embedded default run and by tests.
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/data/Samples.h"

namespace hrmc::runtime {

struct TaskSpec {
  std::string name = "reverse";  // reverse | sort | add | count
  int minLen = 2;                // operand / string length range
  int maxLen = 6;
};

const std::vector<std::string>& taskNames();

// `count` samples of the task. Train and held-out splits come from different seeds and share no
// instruction (the held-out split drops any instruction that is in `exclude`).
std::vector<TextSample> generateTask(const TaskSpec& spec, size_t count, uint64_t seed,
                                     const std::vector<TextSample>* exclude = nullptr);

}  // namespace hrmc::runtime
