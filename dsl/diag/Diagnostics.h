#pragma once
// Collects errors, warnings and notes and renders them as
//   file:line:col: error: message
//     <source line>
//     ^~~~~
//   hint: ...
// Several errors per run; rendering stops after kMaxErrors so a pathological input cannot flood.
#include <iosfwd>
#include <string>
#include <vector>

#include "dsl/source/SourceManager.h"

namespace hrmc::dsl {

enum class Severity { Error, Warning, Note };

struct Diagnostic {
  Severity severity;
  Loc loc;
  std::string message;
  std::string hint;                                    // optional "hint: ..." line
  std::vector<std::pair<Loc, std::string>> notes;      // "note: ..." with their own locations
};

class DiagEngine {
 public:
  static constexpr size_t kMaxErrors = 20;

  explicit DiagEngine(const SourceManager& sm) : sm_(sm) {}

  // Returns the stored diagnostic so callers can attach a hint or notes.
  Diagnostic& error(Loc loc, std::string message, std::string hint = {});
  Diagnostic& warning(Loc loc, std::string message, std::string hint = {});

  size_t errorCount() const { return errors_; }
  size_t warningCount() const { return warnings_; }
  bool hasErrors() const { return errors_ > 0; }
  bool tooManyErrors() const { return errors_ >= kMaxErrors; }
  const std::vector<Diagnostic>& all() const { return diags_; }

  // Errors first (in report order), then warnings, then a one-line count.
  void render(std::ostream& os, bool color = false) const;
  std::string renderToString() const;

 private:
  Diagnostic& add(Severity s, Loc loc, std::string message, std::string hint);
  void renderOne(std::ostream& os, const Diagnostic& d, bool color) const;
  void renderLocated(std::ostream& os, Severity s, Loc loc, const std::string& msg, bool color) const;

  const SourceManager& sm_;
  std::vector<Diagnostic> diags_;
  Diagnostic overflow_;  // absorbs reports past the limit
  size_t errors_ = 0;
  size_t warnings_ = 0;
};

// "did you mean 'x'?" support: the closest candidate within a small edit distance, or "".
std::string closestMatch(const std::string& word, const std::vector<std::string>& candidates);
// Formats " (did you mean 'x'?)" or "" — for appending to messages.
std::string didYouMean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace hrmc::dsl
