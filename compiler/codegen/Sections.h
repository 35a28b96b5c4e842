#pragma once
// The byte layout of every target's binary: byte strings in one string, [u64 count] then per part
// [u64 size][bytes] (cpu: object files; cuda: source, launch shapes, CUBIN, PTX). MLIR-free.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace hrmc::compiler {

inline std::string joinSections(const std::vector<std::string>& parts) {
  std::string joined;
  auto put = [&](uint64_t n) { joined.append(reinterpret_cast<const char*>(&n), sizeof n); };
  put(parts.size());
  for (const std::string& p : parts) {
    put(p.size());
    joined += p;
  }
  return joined;
}

// False when the bytes are not well-formed sections.
inline bool splitSections(std::string_view joined, std::vector<std::string_view>& parts) {
  auto take = [&](uint64_t& n) {
    if (joined.size() < sizeof n) return false;
    std::memcpy(&n, joined.data(), sizeof n);
    joined.remove_prefix(sizeof n);
    return true;
  };
  uint64_t count = 0;
  if (!take(count)) return false;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t size = 0;
    if (!take(size) || joined.size() < size) return false;
    parts.push_back(joined.substr(0, size));
    joined.remove_prefix(size);
  }
  return joined.empty();
}

}  // namespace hrmc::compiler
