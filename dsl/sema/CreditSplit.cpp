#include "dsl/sema/CreditSplit.h"

#include <algorithm>

namespace hrmc::dsl {

CreditSplit creditSplit(int K, const std::vector<std::string>& order, const std::vector<std::string>& stepLevels) {
  CreditSplit split;
  int total = 0;
  for (const std::string& level : order) {
    LevelShare s;
    s.level = level;
    s.steps = static_cast<int>(std::count(stepLevels.begin(), stepLevels.end(), level));
    total += s.steps;
    split.shares.push_back(s);
  }
  for (const std::string& level : stepLevels)
    if (std::find(order.begin(), order.end(), level) == order.end()) {
      split.error = "level '" + level + "' has steps but is not in the credit split order (" + spellSplitOrder(order) + ")";
      split.shares.clear();
      return split;
    }
  if (K < 1 || K > total) {
    split.error = "credit window K = " + std::to_string(K) + " does not fit a recurrence of " + std::to_string(total) +
                  " steps (1.." + std::to_string(total) + ")";
    split.shares.clear();
    return split;
  }
  int left = K;
  for (size_t i = 0; i < split.shares.size(); ++i) {
    LevelShare& s = split.shares[i];
    for (size_t j = i + 1; j < split.shares.size(); ++j) s.reserved += split.shares[j].steps > 0 ? 1 : 0;
    s.withGrad = std::clamp(left - s.reserved, 0, s.steps);
    left -= s.withGrad;
  }
  // Every level that could not take more left exactly one step per later level, and every level
  // that took all it has left no more than the later levels hold, so nothing is left over.
  return split;
}

std::vector<bool> stepsInCreditWindow(int K, const std::vector<std::string>& order,
                                      const std::vector<std::string>& stepLevels, std::string* error) {
  const CreditSplit split = creditSplit(K, order, stepLevels);
  if (!split.ok()) {
    if (error) *error = split.error;
    return {};
  }
  std::vector<bool> grad(stepLevels.size(), false);
  for (const LevelShare& s : split.shares) {
    int seen = 0;  // steps of this level so far, in program order
    for (size_t i = 0; i < stepLevels.size(); ++i)
      if (stepLevels[i] == s.level) grad[i] = seen++ >= s.steps - s.withGrad;
  }
  return grad;
}

std::vector<std::string> defaultCreditSplit(const std::vector<std::string>& stepLevels) {
  std::vector<std::string> order;
  for (const char* level : {"H", "L"})
    if (std::find(stepLevels.begin(), stepLevels.end(), level) != stepLevels.end()) order.push_back(level);
  return order;
}

std::string spellSplitOrder(const std::vector<std::string>& order) {
  std::string s;
  for (const std::string& level : order) s += (s.empty() ? "" : ", ") + level;
  return s;
}

}  // namespace hrmc::dsl
