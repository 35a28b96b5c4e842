#pragma once
// The on-disk cache of compiled kernels: a target's bytes keyed by a content hash of the partitioned
// kernels (hrm ops, without locations), the target's own key (cpu: the host CPU and its features) and
// the hrmc build (version, and the executable's size and modification time, so that a rebuilt hrmc
// never trusts an old entry). Entries are written atomically with a checksum; a missing, stale or
// corrupt entry is recompiled. Lives in $HRMC_CACHE_DIR, else $XDG_CACHE_HOME/hrmc, else
// ~/.cache/hrmc; HRMC_CACHE_DIR=off disables it. Internal to compiler/.
#include <string>

#include "mlir/IR/BuiltinOps.h"

namespace hrmc::compiler {

// The cache folder, or "" when caching is off or there is no home to put it in.
std::string kernelCacheDir();
// The file that holds (or would hold) the bytes a target with `targetKey` makes of these kernels
// (before lowering).
std::string kernelCachePath(const std::string& dir, mlir::ModuleOp kernels, const std::string& targetKey);
// The bytes of a cache entry; false when there is none or it is unusable (`why` says which).
bool loadCachedBinary(const std::string& path, std::string& binary, std::string& why);
// Stores a target's bytes under `path` with a checksum, atomically.
void storeCachedBinary(const std::string& binary, const std::string& path);

}  // namespace hrmc::compiler
