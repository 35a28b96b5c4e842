#include "runtime/cpu/KernelLoader.h"

#include <vector>

#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/TargetSelect.h"

namespace hrmc::runtime::cpu {

std::unique_ptr<JitModule> loadKernels(const std::string& binary, std::string& error) {
  static const bool initialized = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    return true;
  }();
  (void)initialized;
  std::vector<std::string_view> objects;
  if (!compiler::splitSections(binary, objects)) {
    error = "malformed object bundle";
    return nullptr;
  }
  auto jit = llvm::orc::LLJITBuilder().create();
  if (!jit) {
    error = llvm::toString(jit.takeError());
    return nullptr;
  }
  llvm::orc::JITDylib& lib = (*jit)->getMainJITDylib();
  const char prefix = (*jit)->getDataLayout().getGlobalPrefix();
  // The kernels call malloc/free/memset from the process.
  auto generator = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(prefix);
  if (!generator) {
    error = llvm::toString(generator.takeError());
    return nullptr;
  }
  lib.addGenerator(std::move(*generator));
  for (std::string_view o : objects)
    if (llvm::Error e = (*jit)->addObjectFile(llvm::MemoryBuffer::getMemBufferCopy(llvm::StringRef(o.data(), o.size()), "hrmc-kernels"))) {
      error = llvm::toString(std::move(e));
      return nullptr;
    }
  std::shared_ptr<llvm::orc::LLJIT> owner = std::move(*jit);
  llvm::orc::LLJIT* j = owner.get();
  return std::make_unique<JitModule>(owner, [j](const std::string& symbol) -> void* {
    auto address = j->lookup(symbol);
    if (!address) {
      llvm::consumeError(address.takeError());
      return nullptr;
    }
    return address->toPtr<void*>();
  });
}

}  // namespace hrmc::runtime::cpu
