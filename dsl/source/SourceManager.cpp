#include "dsl/source/SourceManager.h"

#include <fstream>
#include <sstream>

namespace hrmc::dsl {

namespace {
// Rejects text the lexer should never see: NUL bytes (binary files) and anything that is not strict
// UTF-8 (overlong forms, surrogates and code points past U+10FFFF included), which the ANTLR runtime
// would otherwise reject with an exception.
std::string checkText(const std::string& text) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = byte(i);
    if (c == 0) return "file contains NUL bytes (a binary file?)";
    int extra;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the first continuation byte
    if (c < 0x80) extra = 0;
    else if (c >= 0xC2 && c <= 0xDF) extra = 1;
    else if (c >= 0xE0 && c <= 0xEF) extra = 2, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    else if (c >= 0xF0 && c <= 0xF4) extra = 3, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    else extra = -1;
    bool ok = extra >= 0 && i + extra < text.size();
    for (int k = 1; ok && k <= extra; ++k) {
      const unsigned char b = byte(i + k);
      ok = k == 1 ? (b >= lo && b <= hi) : (b >> 6) == 0x2;
    }
    if (!ok) return "file is not valid UTF-8 text (byte offset " + std::to_string(i) + ")";
    i += 1 + extra;
  }
  return {};
}
}  // namespace

std::optional<uint32_t> SourceManager::load(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open file";
    return std::nullopt;
  }
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  if (size < 0) {
    error = "cannot read file (is it a directory?)";
    return std::nullopt;
  }
  if (static_cast<size_t>(size) > kMaxFileBytes) {
    error = "file is " + std::to_string(size) + " bytes; .hrm files are limited to " +
            std::to_string(kMaxFileBytes) + " bytes";
    return std::nullopt;
  }
  in.seekg(0);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (!in && !in.eof()) {
    error = "cannot read file";
    return std::nullopt;
  }
  return addBuffer(path, ss.str(), error);
}

std::optional<uint32_t> SourceManager::addBuffer(const std::string& name, std::string text,
                                                 std::string& error) {
  if (text.size() > kMaxFileBytes) {
    error = "input is " + std::to_string(text.size()) + " bytes; .hrm files are limited to " +
            std::to_string(kMaxFileBytes) + " bytes";
    return std::nullopt;
  }
  if (std::string bad = checkText(text); !bad.empty()) {
    error = bad;
    return std::nullopt;
  }
  File f;
  f.path = name;
  f.lineStarts.push_back(0);
  for (size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n') f.lineStarts.push_back(i + 1);
  f.text = std::move(text);
  files_.push_back(std::move(f));
  return static_cast<uint32_t>(files_.size() - 1);
}

std::string SourceManager::lineText(uint32_t file, uint32_t line) const {
  if (file >= files_.size()) return {};
  const File& f = files_[file];
  if (line == 0 || line > f.lineStarts.size()) return {};
  size_t begin = f.lineStarts[line - 1];
  size_t end = f.text.find('\n', begin);
  if (end == std::string::npos) end = f.text.size();
  if (end > begin && f.text[end - 1] == '\r') --end;
  return f.text.substr(begin, end - begin);
}

}  // namespace hrmc::dsl
