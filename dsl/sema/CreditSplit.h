#pragma once
// The credit window's split over recurrence levels (HRM-TEXT.md §2): the one rule that the model
// report, the checks of a declared window and the train-step builder share. Of K steps with
// gradient, the levels take their share in split order: each takes as many of its last steps as K
// allows while leaving one step for every later level that has steps, and the last level takes the
// rest. With the two-level default order (H, then L) this is the paper's H-first split: H takes
// min(Hc, K − 1), keeping at least one L step when there are any; L takes the rest.
#include <string>
#include <vector>

namespace hrmc::dsl {

struct LevelShare {
  std::string level;
  int steps = 0;     // the level's steps over the whole recurrence
  int withGrad = 0;  // its last `withGrad` steps carry gradient
  int reserved = 0;  // steps K still had to leave to later levels when this level took its share
};

struct CreditSplit {
  std::vector<LevelShare> shares;  // in split order
  std::string error;               // K does not fit the recurrence (then shares is empty)
  bool ok() const { return error.empty(); }
};

// `order` lists every level once, in split order; `stepLevels` is each step's level in program order.
CreditSplit creditSplit(int K, const std::vector<std::string>& order, const std::vector<std::string>& stepLevels);

// Which steps carry gradient at K: the last `withGrad` steps of each level, in program order.
// Empty when the split has an error.
std::vector<bool> stepsInCreditWindow(int K, const std::vector<std::string>& order,
                                      const std::vector<std::string>& stepLevels, std::string* error = nullptr);

// The split order IR without a recorded one assumes: H, then L, of the levels that have steps.
std::vector<std::string> defaultCreditSplit(const std::vector<std::string>& stepLevels);

// "H, L" — the split order as the schedule and the errors spell it.
std::string spellSplitOrder(const std::vector<std::string>& order);

}  // namespace hrmc::dsl
