#pragma once
// Which keys a query may attend to (HRM-TEXT.md §3.6). One enum for the model graph, the `hrm`
// dialect's mask attribute (its spelling), the kernel program and both executors.
#include <string_view>

namespace hrmc::dsl {

enum class MaskKind { PrefixLM, Causal, Full };
// "prefixlm", "causal", "full"
const char* spell(MaskKind m);
// The mask a spelling names (the dialect's verifier admits only those three; prefixlm otherwise).
MaskKind maskFromSpelling(std::string_view spelling);

}  // namespace hrmc::dsl
