#pragma once
// Instruction→response samples: reading the reference's SFT JSONL format (HRM-TEXT.md §3.3) with
// per-line validation, tokenising, and a token cache on disk that a restart memory-maps instead of
// re-tokenising.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "runtime/data/Tokenizer.h"

namespace hrmc::runtime {

struct DataError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct TextSample {
  std::string instruction;
  std::string response;
  std::string condition = "direct";
  int64_t line = 0;  // its line in the JSONL file it was read from (0: not from a file)
};

struct JsonlReport {
  size_t lines = 0;     // non-blank lines read
  size_t skipped = 0;   // malformed lines skipped (only when not fatal)
  std::vector<std::string> problems;  // "file:line: what", the first few
};

// Reads {"instruction", "response", "condition"?} per line. A malformed line (bad JSON, missing
// field, wrong type, unknown condition, empty response) is an error naming file:line, or, when
// `skipBad`, is skipped and counted in the report. Blank lines are ignored.
std::vector<TextSample> readJsonl(const std::string& path, bool skipBad, JsonlReport& report);
void writeJsonl(const std::string& path, const std::vector<TextSample>& samples);

// Tokenised samples in one flat array: sample s is tokens[instStart[s] .. +instLen[s]) and
// tokens[respStart[s] .. +respLen[s]).
struct TokenizedSamples {
  std::vector<int32_t> tokens;
  std::vector<int64_t> instStart, instLen, respStart, respLen;
  std::vector<int64_t> lines;  // each sample's line in `source` (0: not from a file)
  std::string source;          // the JSONL file, or what made the samples
  size_t size() const { return instLen.size(); }
  // "FILE:LINE" of sample s, or "sample s of SOURCE".
  std::string where(size_t s) const;
  // The samples for which keep(s) holds, in order.
  template <typename Keep>
  TokenizedSamples filtered(Keep keep) const;
  // Packed length of a sample: inst + resp − 1 (HRM-TEXT.md §3.4).
  int64_t packedLength(size_t s) const { return instLen[s] + respLen[s] - 1; }
};

template <typename Keep>
TokenizedSamples TokenizedSamples::filtered(Keep keep) const {
  TokenizedSamples out;
  out.source = source;
  for (size_t s = 0; s < size(); ++s) {
    if (!keep(s)) continue;
    out.instStart.push_back(static_cast<int64_t>(out.tokens.size()));
    out.instLen.push_back(instLen[s]);
    out.tokens.insert(out.tokens.end(), tokens.begin() + instStart[s], tokens.begin() + instStart[s] + instLen[s]);
    out.respStart.push_back(static_cast<int64_t>(out.tokens.size()));
    out.respLen.push_back(respLen[s]);
    out.tokens.insert(out.tokens.end(), tokens.begin() + respStart[s], tokens.begin() + respStart[s] + respLen[s]);
    out.lines.push_back(lines[s]);
  }
  return out;
}

// `source` names where the samples came from in error messages.
TokenizedSamples tokenize(const std::vector<TextSample>& samples, const Tokenizer& tok, const std::string& source = "");

// Tokenises `jsonlPath` once and caches the result next to `cacheDir` keyed by the file's size,
// modification time and the tokenizer; a later call memory-maps the cache (no re-tokenising).
TokenizedSamples loadTokenized(const std::string& jsonlPath, const Tokenizer& tok, const std::string& cacheDir,
                               bool skipBad, JsonlReport& report, bool& fromCache);

}  // namespace hrmc::runtime
