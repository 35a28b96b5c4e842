#pragma once
// Owns the text of every .hrm file a compilation reads and maps locations back to lines.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hrmc::dsl {

// A span in one source file: 1-based line and column (columns count code points, as the lexer
// does), length in code points. file == kNoFile for locations that are not in a file (command line).
struct Loc {
  static constexpr uint32_t kNoFile = UINT32_MAX;
  uint32_t file = kNoFile;
  uint32_t line = 0;
  uint32_t col = 0;
  uint32_t len = 1;
  bool valid() const { return file != kNoFile; }
};

class SourceManager {
 public:
  // Largest file accepted: a model description is a few KiB; anything bigger is almost surely not one.
  static constexpr size_t kMaxFileBytes = 1 << 20;

  // Reads a file; on failure returns nullopt and sets `error` to a user-facing reason.
  std::optional<uint32_t> load(const std::string& path, std::string& error);
  // Adds in-memory text (tests, fuzzing). Same checks as load().
  std::optional<uint32_t> addBuffer(const std::string& name, std::string text, std::string& error);

  const std::string& path(uint32_t file) const { return files_[file].path; }
  const std::string& text(uint32_t file) const { return files_[file].text; }
  // The text of a 1-based line without its newline; empty when out of range.
  std::string lineText(uint32_t file, uint32_t line) const;
  size_t fileCount() const { return files_.size(); }

 private:
  struct File {
    std::string path;
    std::string text;
    std::vector<size_t> lineStarts;
  };
  std::vector<File> files_;
};

}  // namespace hrmc::dsl
