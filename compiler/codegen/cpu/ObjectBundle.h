#pragma once
// The CPU target's binary: the object files of the kernels (compiled in parallel, one per part) in one
// string, [u64 count] then per object [u64 size][bytes]. Written by the CPU code generator, read by the
// CPU runtime's loader; MLIR-free.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace hrmc::compiler {

inline std::string makeObjectBundle(const std::vector<std::string>& objects) {
  std::string bundle;
  auto put = [&](uint64_t n) { bundle.append(reinterpret_cast<const char*>(&n), sizeof n); };
  put(objects.size());
  for (const std::string& o : objects) {
    put(o.size());
    bundle += o;
  }
  return bundle;
}

// False when the bytes are not a well-formed bundle.
inline bool splitObjectBundle(std::string_view bundle, std::vector<std::string_view>& objects) {
  auto take = [&](uint64_t& n) {
    if (bundle.size() < sizeof n) return false;
    std::memcpy(&n, bundle.data(), sizeof n);
    bundle.remove_prefix(sizeof n);
    return true;
  };
  uint64_t count = 0;
  if (!take(count)) return false;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t size = 0;
    if (!take(size) || bundle.size() < size) return false;
    objects.push_back(bundle.substr(0, size));
    bundle.remove_prefix(size);
  }
  return bundle.empty();
}

// The symbol a kernel's packed entry `void(void** args)` has in the objects.
inline std::string packedEntrySymbol(const std::string& kernel) { return "_mlir__mlir_ciface_" + kernel; }

}  // namespace hrmc::compiler
