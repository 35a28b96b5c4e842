#include "dsl/diag/Diagnostics.h"

#include <algorithm>
#include <cctype>
#include <ostream>
#include <sstream>

namespace hrmc::dsl {

Diagnostic& DiagEngine::add(Severity s, Loc loc, std::string message, std::string hint) {
  if (s == Severity::Error) {
    if (errors_ >= kMaxErrors) {
      ++errors_;
      overflow_ = {};
      return overflow_;
    }
    ++errors_;
  } else if (s == Severity::Warning) {
    ++warnings_;
  }
  // The same message at the same place (a module instantiated many times) is reported once.
  for (Diagnostic& d : diags_)
    if (d.severity == s && d.loc.file == loc.file && d.loc.line == loc.line && d.loc.col == loc.col &&
        d.message == message) {
      if (s == Severity::Error) --errors_;
      if (s == Severity::Warning) --warnings_;
      overflow_ = {};
      return overflow_;
    }
  diags_.push_back({s, loc, std::move(message), std::move(hint), {}});
  return diags_.back();
}

Diagnostic& DiagEngine::error(Loc loc, std::string message, std::string hint) {
  return add(Severity::Error, loc, std::move(message), std::move(hint));
}
Diagnostic& DiagEngine::warning(Loc loc, std::string message, std::string hint) {
  return add(Severity::Warning, loc, std::move(message), std::move(hint));
}

namespace {
const char* label(Severity s) {
  switch (s) {
    case Severity::Error: return "error";
    case Severity::Warning: return "warning";
    case Severity::Note: return "note";
  }
  return "";
}
const char* colorOf(Severity s) {
  switch (s) {
    case Severity::Error: return "\033[1;31m";
    case Severity::Warning: return "\033[1;35m";
    case Severity::Note: return "\033[1;36m";
  }
  return "";
}
// Byte offset of the 1-based code-point column `col` in a UTF-8 line.
size_t byteOfColumn(const std::string& line, uint32_t col) {
  size_t b = 0;
  for (uint32_t c = 1; c < col && b < line.size(); ++c) {
    ++b;
    while (b < line.size() && (static_cast<unsigned char>(line[b]) >> 6) == 0x2) ++b;
  }
  return b;
}
}  // namespace

void DiagEngine::renderLocated(std::ostream& os, Severity s, Loc loc, const std::string& msg,
                               bool color) const {
  const char* bold = color ? "\033[1m" : "";
  const char* reset = color ? "\033[0m" : "";
  if (loc.valid()) {
    os << bold << sm_.path(loc.file) << ":" << loc.line << ":" << loc.col << ": " << reset;
  } else {
    os << bold << "hrmc: " << reset;
  }
  os << (color ? colorOf(s) : "") << label(s) << ":" << reset << " " << bold << msg << reset << "\n";
  if (!loc.valid()) return;
  std::string line = sm_.lineText(loc.file, loc.line);
  if (line.empty()) return;
  // Tabs are kept so the caret lines up with what the user's terminal shows.
  os << "  " << line << "\n  ";
  size_t caretByte = byteOfColumn(line, loc.col);
  for (size_t i = 0; i < caretByte && i < line.size(); ++i) {
    if ((static_cast<unsigned char>(line[i]) >> 6) == 0x2) continue;  // one column per code point
    os << (line[i] == '\t' ? '\t' : ' ');
  }
  os << (color ? "\033[1;32m" : "") << "^";
  uint32_t lineCols = 0;
  for (size_t i = caretByte; i < line.size(); ++i)
    if ((static_cast<unsigned char>(line[i]) >> 6) != 0x2) ++lineCols;
  uint32_t tilde = std::min(loc.len, lineCols);
  for (uint32_t i = 1; i < tilde; ++i) os << "~";
  os << reset << "\n";
}

void DiagEngine::renderOne(std::ostream& os, const Diagnostic& d, bool color) const {
  renderLocated(os, d.severity, d.loc, d.message, color);
  if (!d.hint.empty()) os << (color ? "\033[1;36m" : "") << "hint:" << (color ? "\033[0m" : "") << " " << d.hint << "\n";
  for (const auto& [loc, text] : d.notes) renderLocated(os, Severity::Note, loc, text, color);
}

void DiagEngine::render(std::ostream& os, bool color) const {
  for (Severity s : {Severity::Error, Severity::Warning})
    for (const Diagnostic& d : diags_)
      if (d.severity == s) renderOne(os, d, color);
  if (errors_ > kMaxErrors)
    os << "hrmc: too many errors (" << errors_ << "); showing the first " << kMaxErrors << "\n";
  if (errors_ || warnings_) {
    os << errors_ << " error" << (errors_ == 1 ? "" : "s");
    if (warnings_) os << ", " << warnings_ << " warning" << (warnings_ == 1 ? "" : "s");
    os << " generated.\n";
  }
}

std::string DiagEngine::renderToString() const {
  std::ostringstream ss;
  render(ss, false);
  return ss.str();
}

namespace {
size_t editDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (std::tolower(a[i - 1]) == std::tolower(b[j - 1]) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}
}  // namespace

std::string closestMatch(const std::string& word, const std::vector<std::string>& candidates) {
  if (word.size() > 64) return {};
  std::string best;
  size_t bestDist = std::max<size_t>(1, std::min<size_t>(3, (word.size() + 2) / 3)) + 1;
  for (const std::string& c : candidates) {
    if (c == word || c.size() > 64) continue;
    size_t d = editDistance(word, c);
    if (d < bestDist) {
      bestDist = d;
      best = c;
    }
  }
  return best;
}

std::string didYouMean(const std::string& word, const std::vector<std::string>& candidates) {
  std::string m = closestMatch(word, candidates);
  return m.empty() ? std::string() : " (did you mean '" + m + "'?)";
}

}  // namespace hrmc::dsl
