#include "runtime/data/Samples.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

#include <nlohmann/json.hpp>

namespace hrmc::runtime {

namespace fs = std::filesystem;

namespace {

// Checks one parsed line; returns "" or what is wrong with it.
std::string validate(const nlohmann::json& j, const Tokenizer* tok) {
  if (!j.is_object()) return "expected a JSON object";
  for (const char* key : {"instruction", "response"}) {
    if (!j.contains(key)) return std::string("missing \"") + key + "\"";
    if (!j[key].is_string()) return std::string("\"") + key + "\" must be a string";
  }
  if (j["response"].get<std::string>().empty()) return "\"response\" is empty (a sample needs at least one response token)";
  if (j.contains("condition")) {
    if (!j["condition"].is_string()) return "\"condition\" must be a string";
    const std::string c = j["condition"];
    const auto& names = conditionNames();
    if (std::find(names.begin(), names.end(), c) == names.end())
      return "unknown condition \"" + c + "\" (known: direct, cot, noisy, synth)";
  }
  (void)tok;
  return {};
}

}  // namespace

std::vector<TextSample> readJsonl(const std::string& path, bool skipBad, JsonlReport& report) {
  std::ifstream in(path);
  if (!in) throw DataError(path + ": cannot open");
  std::vector<TextSample> out;
  std::string line;
  size_t lineNo = 0;
  while (std::getline(in, line)) {
    ++lineNo;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    ++report.lines;
    std::string problem;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
      problem = validate(j, nullptr);
    } catch (const nlohmann::json::parse_error& e) {
      problem = std::string("not valid JSON (") + e.what() + ")";
    }
    if (!problem.empty()) {
      const std::string where = path + ":" + std::to_string(lineNo) + ": " + problem;
      if (!skipBad)
        throw DataError(where + "\nhint: fix the line, or set data.on_bad_line = \"skip\" to skip such lines and count them");
      ++report.skipped;
      if (report.problems.size() < 5) report.problems.push_back(where);
      continue;
    }
    TextSample s;
    s.instruction = j["instruction"];
    s.response = j["response"];
    if (j.contains("condition")) s.condition = j["condition"];
    s.line = static_cast<int64_t>(lineNo);
    out.push_back(std::move(s));
  }
  return out;
}

void writeJsonl(const std::string& path, const std::vector<TextSample>& samples) {
  std::ofstream out(path);
  if (!out) throw DataError(path + ": cannot write");
  for (const TextSample& s : samples)
    out << nlohmann::json{{"instruction", s.instruction}, {"response", s.response}, {"condition", s.condition}}.dump()
        << "\n";
  if (!out) throw DataError(path + ": write failed");
}

std::string TokenizedSamples::where(size_t s) const {
  if (s < lines.size() && lines[s] > 0) return source + ":" + std::to_string(lines[s]);
  return "sample " + std::to_string(s + 1) + (source.empty() ? "" : " of " + source);
}

TokenizedSamples tokenize(const std::vector<TextSample>& samples, const Tokenizer& tok, const std::string& source) {
  TokenizedSamples t;
  t.source = source;
  for (const TextSample& s : samples) {
    t.lines.push_back(s.line);
    std::vector<int32_t> inst = tok.instruction(s.instruction, s.condition);
    std::vector<int32_t> resp = tok.response(s.response);
    t.instStart.push_back(static_cast<int64_t>(t.tokens.size()));
    t.instLen.push_back(static_cast<int64_t>(inst.size()));
    t.tokens.insert(t.tokens.end(), inst.begin(), inst.end());
    t.respStart.push_back(static_cast<int64_t>(t.tokens.size()));
    t.respLen.push_back(static_cast<int64_t>(resp.size()));
    t.tokens.insert(t.tokens.end(), resp.begin(), resp.end());
  }
  return t;
}

namespace {
constexpr uint64_t kCacheMagic = 0x324b4f54434d5248ull;  // "HRMCTOK2"

void writeCache(const std::string& path, const TokenizedSamples& t) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    const uint64_t header[3] = {kCacheMagic, t.tokens.size(), t.size()};
    out.write(reinterpret_cast<const char*>(header), sizeof header);
    out.write(reinterpret_cast<const char*>(t.tokens.data()), static_cast<std::streamsize>(t.tokens.size() * 4));
    for (const auto* v : {&t.instStart, &t.instLen, &t.respStart, &t.respLen, &t.lines})
      out.write(reinterpret_cast<const char*>(v->data()), static_cast<std::streamsize>(v->size() * 8));
    if (!out) return;  // a cache that cannot be written only costs re-tokenising next time
  }
  fs::rename(tmp, path);
}

// Maps the cache read-only and copies it out; a short or foreign file is ignored (re-tokenised).
bool readCache(const std::string& path, TokenizedSamples& t) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return false;
  struct stat st {};
  bool ok = ::fstat(fd, &st) == 0 && st.st_size >= 24;
  void* map = ok ? ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
  ::close(fd);
  if (map == MAP_FAILED) return false;
  const char* p = static_cast<const char*>(map);
  uint64_t header[3];
  std::memcpy(header, p, sizeof header);
  const uint64_t need = 24 + header[1] * 4 + header[2] * 40;
  ok = header[0] == kCacheMagic && need == static_cast<uint64_t>(st.st_size);
  if (ok) {
    p += 24;
    t.tokens.resize(header[1]);
    std::memcpy(t.tokens.data(), p, header[1] * 4);
    p += header[1] * 4;
    for (auto* v : {&t.instStart, &t.instLen, &t.respStart, &t.respLen, &t.lines}) {
      v->resize(header[2]);
      std::memcpy(v->data(), p, header[2] * 8);
      p += header[2] * 8;
    }
  }
  ::munmap(map, static_cast<size_t>(st.st_size));
  return ok;
}
}  // namespace

TokenizedSamples loadTokenized(const std::string& jsonlPath, const Tokenizer& tok, const std::string& cacheDir,
                               bool skipBad, JsonlReport& report, bool& fromCache) {
  std::error_code ec;
  const auto size = fs::file_size(jsonlPath, ec);
  if (ec) throw DataError(jsonlPath + ": cannot open");
  const auto mtime = fs::last_write_time(jsonlPath, ec).time_since_epoch().count();
  const size_t key = std::hash<std::string>()(fs::absolute(jsonlPath).string() + "|" + std::to_string(size) + "|" +
                                              std::to_string(mtime) + "|" + tok.name() + "|" + (skipBad ? "skip" : "strict"));
  char name[64];
  std::snprintf(name, sizeof name, "tokens-%016zx.bin", key);
  const std::string cachePath = (fs::path(cacheDir) / name).string();
  TokenizedSamples t;
  fromCache = readCache(cachePath, t);
  t.source = jsonlPath;
  if (fromCache) return t;
  t = tokenize(readJsonl(jsonlPath, skipBad, report), tok, jsonlPath);
  fs::create_directories(cacheDir, ec);
  if (!ec) writeCache(cachePath, t);
  return t;
}

}  // namespace hrmc::runtime
