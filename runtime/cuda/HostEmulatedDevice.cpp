#include "runtime/cuda/HostEmulatedDevice.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "compiler/codegen/cuda/CudaBundle.h"
#include "compiler/codegen/cuda/DeviceHeader.h"
#include "runtime/exec/Types.h"

namespace hrmc::runtime::cuda {

namespace {

namespace fs = std::filesystem;

// A generated kernel's host entry (HRM_HOST_ENTRY in hrm_device.cuh).
using HostEntry = void (*)(long long blocks, long long threads, void** args);

void write(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw ExecError("cannot write " + path.string());
}

// The source compiled into a shared object in a fresh folder, loaded, and the folder removed.
void* compileForHost(const compiler::CudaBundle& bundle, const std::string& function) {
  char pattern[] = "/tmp/hrmc-cuda-host-XXXXXX";
  const char* made = mkdtemp(pattern);
  if (!made) throw ExecError("cannot make a folder for the host build of '" + function + "'");
  const fs::path dir(made);
  write(dir / compiler::kCudaDeviceHeaderName, compiler::cudaDeviceHeader());
  write(dir / "kernels.cpp", bundle.source);
  const char* cxx = std::getenv("HRMC_HOST_CXX");
  const std::string command = std::string(cxx ? cxx : "c++") + " -std=c++17 -O1 -fPIC -shared -w -I'" + dir.string() +
                              "' '" + (dir / "kernels.cpp").string() + "' -o '" + (dir / "kernels.so").string() +
                              "' > '" + (dir / "log.txt").string() + "' 2>&1";
  const int rc = std::system(command.c_str());
  void* lib = rc == 0 ? dlopen((dir / "kernels.so").c_str(), RTLD_NOW | RTLD_LOCAL) : nullptr;
  std::string log;
  if (!lib) {
    std::ifstream in(dir / "log.txt");
    log.assign(std::istreambuf_iterator<char>(in), {});
    if (rc == 0) log += dlerror();
  }
  std::error_code ignored;
  fs::remove_all(dir, ignored);
  if (!lib) throw ExecError("the generated CUDA C of '" + function + "' does not compile for the host:\n" + log);
  return lib;
}

class HostKernels final : public LoadedKernels {
 public:
  HostKernels(const compiler::CompiledProgram& compiled, int threads) : program_(compiled.program), threads_(threads) {
    if (!bundle_.unpack(compiled.binary))
      throw ExecError("the code of '" + program_.function + "' is not a CUDA bundle (compiled for " + compiled.target + "?)");
    lib_ = compileForHost(bundle_, program_.function);
    for (const compiler::Launch& l : program_.launches) {
      if (l.kind != compiler::LaunchKind::Fused) {
        entries_.push_back(nullptr);
        shapes_.push_back(nullptr);
        continue;
      }
      auto shape = std::find_if(bundle_.kernels.begin(), bundle_.kernels.end(),
                                [&](const compiler::CudaKernelShape& s) { return s.name == l.kernel; });
      auto entry = reinterpret_cast<HostEntry>(dlsym(lib_, (l.kernel + "_host").c_str()));
      if (shape == bundle_.kernels.end() || !entry)
        throw ExecError("the CUDA code of '" + program_.function + "' lacks kernel '" + l.kernel + "'");
      entries_.push_back(entry);
      shapes_.push_back(&*shape);
    }
  }
  ~HostKernels() override { dlclose(lib_); }

  void launch(const LaunchArgs& a) override {
    long long T = a.seq.tokens();
    std::vector<void*> args;
    for (const DeviceTensor& t : a.in) args.push_back(t.data);
    for (const DeviceTensor& t : a.out) args.push_back(t.data);
    args.push_back(&T);
    const compiler::CudaKernelShape& shape = *shapes_[a.index];
    if (static_cast<int>(args.size()) != shape.pointers + 1)
      throw ExecError("kernel '" + shape.name + "' takes " + std::to_string(shape.pointers) + " buffers, not " +
                      std::to_string(args.size() - 1));
    const int64_t blocks = shape.blocks(T);
    if (blocks > 0) entries_[a.index](blocks, threads_, args.data());
  }

 private:
  const compiler::KernelProgram& program_;
  int threads_;
  compiler::CudaBundle bundle_;
  void* lib_ = nullptr;
  std::vector<HostEntry> entries_;                         // per launch (null for library launches)
  std::vector<const compiler::CudaKernelShape*> shapes_;
};

}  // namespace

std::unique_ptr<LoadedKernels> HostEmulatedDevice::load(const compiler::CompiledProgram& compiled) {
  return std::make_unique<HostKernels>(compiled, threads_);
}

}  // namespace hrmc::runtime::cuda
