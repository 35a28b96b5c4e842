#pragma once
// Label rules every executor shares: the ignore label, and the check that names a bad label's position.
#include <cstdint>

namespace hrmc::runtime {

// Positions whose label is -100 take no part in the loss (HRM-TEXT.md §3.6).
constexpr int32_t kIgnoreLabel = -100;

// Throws BatchError naming the first label outside [0, V) other than -100, and its position.
void checkLabels(const int32_t* labels, int64_t T, int64_t V);

}  // namespace hrmc::runtime
