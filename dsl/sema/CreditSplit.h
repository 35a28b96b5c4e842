#pragma once
// The credit window's H-first split (HRM-TEXT.md §2), the one rule the model report, the checks of a
// declared window and the train-step builder share: of K steps with gradient, the slow (H) level
// takes min(Hc, K − 1), keeping at least one fast (L) step when there are any; the fast level the rest.
#include <algorithm>

namespace hrmc::dsl {

struct CreditSplit {
  int slow = 0, fast = 0;  // the last `slow` H steps and the last `fast` L steps carry gradient
};

inline CreditSplit creditSplit(int K, int numSlow, int numFast) {
  const int slow = numFast > 0 ? std::min(numSlow, K - 1) : std::min(numSlow, K);
  return {slow, K - slow};
}

}  // namespace hrmc::dsl
