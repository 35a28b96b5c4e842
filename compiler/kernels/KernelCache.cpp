#include "compiler/kernels/KernelCache.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/raw_ostream.h"

namespace hrmc::compiler {

namespace {

constexpr char kMagic[8] = {'H', 'R', 'M', 'C', 'O', 'B', 'J', '1'};

uint64_t fnv1a(const char* data, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; ++i) h = (h ^ static_cast<unsigned char>(data[i])) * 1099511628211ull;
  return h;
}

// What identifies this hrmc build: its version and the running executable's size and mtime.
std::string buildIdentity() {
  std::string id = HRMC_VERSION;
  struct stat st {};
  if (::stat("/proc/self/exe", &st) == 0)
    id += ":" + std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
          std::to_string(st.st_mtim.tv_nsec);
  return id;
}

}  // namespace

std::string kernelCacheDir() {
  if (const char* dir = std::getenv("HRMC_CACHE_DIR")) return std::string(dir) == "off" ? "" : dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::string(xdg) + "/hrmc";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.cache/hrmc";
  return "";
}

std::string kernelCachePath(const std::string& dir, mlir::ModuleOp kernels, const std::string& targetKey) {
  std::string text;
  llvm::raw_string_ostream os(text);
  kernels.print(os, mlir::OpPrintingFlags().useLocalScope());
  os << "\n" << targetKey << "\n" << buildIdentity();
  llvm::SHA256 sha;
  sha.update(text);
  std::string key;
  for (uint8_t byte : sha.final()) {
    char hex[3];
    std::snprintf(hex, sizeof hex, "%02x", byte);
    key += hex;
  }
  return dir + "/" + key + ".o";
}

bool loadCachedBinary(const std::string& path, std::string& binary, std::string& why) {
  auto file = llvm::MemoryBuffer::getFile(path);
  if (!file) {
    why = "no entry";
    return false;
  }
  llvm::StringRef bytes = (*file)->getBuffer();
  if (bytes.size() < 16 || std::memcmp(bytes.data(), kMagic, 8) != 0) {
    why = "not an hrmc kernel cache entry";
    return false;
  }
  uint64_t checksum;
  std::memcpy(&checksum, bytes.data() + 8, 8);
  llvm::StringRef object = bytes.drop_front(16);
  if (fnv1a(object.data(), object.size()) != checksum) {
    why = "checksum mismatch (a corrupt entry)";
    return false;
  }
  binary.assign(object.data(), object.size());
  return true;
}

void storeCachedBinary(const std::string& object, const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  const std::string tmp = path + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary);
    const uint64_t checksum = fnv1a(object.data(), object.size());
    out.write(kMagic, 8);
    out.write(reinterpret_cast<const char*>(&checksum), 8);
    out.write(object.data(), static_cast<std::streamsize>(object.size()));
    if (!out) {
      std::filesystem::remove(tmp, ec);
      return;  // a cache that cannot be written is only a slower next start
    }
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) std::filesystem::remove(tmp, ec);
}

}  // namespace hrmc::compiler
