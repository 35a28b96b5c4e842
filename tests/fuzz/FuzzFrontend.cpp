// libFuzzer target: arbitrary bytes as a .hrm file through parse + sema + elaboration.
// It must never crash, hang or grow memory without bound; diagnostics are fine.
#include <cstddef>
#include <cstdint>
#include <string>

#include "dsl/sema/Sema.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  hrmc::dsl::FrontendOptions options;
  options.stdlibDirs = {HRMC_STDLIB_DIR};
  auto result = hrmc::dsl::runFrontend("fuzz.hrm", options, &text);
  (void)result->diags.renderToString();
  return 0;
}
