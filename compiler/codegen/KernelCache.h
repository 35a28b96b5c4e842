#pragma once
// The on-disk cache of compiled kernels: object code keyed by a content hash of the partitioned
// kernels (hrm ops, without locations), the host CPU and its features, and the hrmc build (version,
// and the executable's size and modification time, so that a rebuilt hrmc never trusts an old
// entry). Entries are written atomically with a checksum; a missing, stale or corrupt entry is
// recompiled. Lives in $HRMC_CACHE_DIR, else $XDG_CACHE_HOME/hrmc, else ~/.cache/hrmc;
// HRMC_CACHE_DIR=off disables it. Internal to compiler/.
#include <memory>
#include <string>

#include "compiler/JitModule.h"
#include "mlir/IR/BuiltinOps.h"

namespace hrmc::compiler {

// The cache folder, or "" when caching is off or there is no home to put it in.
std::string kernelCacheDir();
// The file that holds (or would hold) the object code of these kernels (before lowering).
std::string kernelCachePath(const std::string& dir, mlir::ModuleOp kernels);
// Loads kernels from a cache entry; null when there is none or it is unusable (`why` says which).
std::unique_ptr<JitModule> loadCachedKernels(const std::string& path, std::string& why);
// Stores object code (from compileKernelsToObject) under `path` with a checksum, atomically.
void storeCachedKernels(const std::string& object, const std::string& path);

}  // namespace hrmc::compiler
