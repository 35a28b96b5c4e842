#pragma once
// The models in models/: the one list the tests that walk every model use.
namespace hrmc::test {

inline constexpr const char* kModelNames[] = {"hrm_text", "transformer", "ut", "rins", "trm", "hrm3"};

}  // namespace hrmc::test
