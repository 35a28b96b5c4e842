#include "compiler/codegen/cuda/Nvrtc.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>
#include <regex>
#include <sstream>

namespace hrmc::compiler {

// NVRTC's C interface, declared here (nvrtc.h is in the toolkit, which a build machine may lack):
// every entry returns an nvrtcResult (0 = success) and a program is an opaque pointer.
struct Nvrtc::Api {
  using Program = void*;
  const char* (*getErrorString)(int);
  int (*version)(int*, int*);
  int (*createProgram)(Program*, const char*, const char*, int, const char* const*, const char* const*);
  int (*destroyProgram)(Program*);
  int (*compileProgram)(Program, int, const char* const*);
  int (*getPTXSize)(Program, size_t*);
  int (*getPTX)(Program, char*);
  int (*getCUBINSize)(Program, size_t*);
  int (*getCUBIN)(Program, char*);
  int (*getProgramLogSize)(Program, size_t*);
  int (*getProgramLog)(Program, char*);
};

namespace {

std::vector<std::string> candidates() {
  std::vector<std::string> paths;
  if (const char* p = std::getenv("HRMC_NVRTC")) paths.push_back(p);
  std::vector<std::string> dirs;
  for (const char* var : {"CUDA_PATH", "CUDA_HOME"})
    if (const char* d = std::getenv(var)) {
      dirs.push_back(std::string(d) + "/lib64");
      dirs.push_back(std::string(d) + "/lib");
    }
#ifdef HRMC_CUDA_LIBRARY_DIR
  dirs.push_back(HRMC_CUDA_LIBRARY_DIR);
#endif
  dirs.push_back("/usr/local/cuda/lib64");
  dirs.push_back("/usr/local/cuda/lib");
  for (const std::string& d : dirs)
    for (const char* name : {"libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12"}) paths.push_back(d + "/" + name);
  for (const char* name : {"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"}) paths.push_back(name);
  return paths;
}

template <typename F>
bool bind(void* lib, const char* symbol, F& f) {
  f = reinterpret_cast<F>(dlsym(lib, symbol));
  return f != nullptr;
}

}  // namespace

const Nvrtc* Nvrtc::get(std::string& error) {
  static std::once_flag once;
  static Nvrtc* loaded = nullptr;
  static std::string why;
  std::call_once(once, [] {
    std::string tried;
    for (const std::string& path : candidates()) {
      void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!lib) {
        tried += (tried.empty() ? "" : ", ") + path;
        continue;
      }
      auto* api = new Api();
      const bool ok = bind(lib, "nvrtcGetErrorString", api->getErrorString) && bind(lib, "nvrtcVersion", api->version) &&
                      bind(lib, "nvrtcCreateProgram", api->createProgram) &&
                      bind(lib, "nvrtcDestroyProgram", api->destroyProgram) &&
                      bind(lib, "nvrtcCompileProgram", api->compileProgram) && bind(lib, "nvrtcGetPTXSize", api->getPTXSize) &&
                      bind(lib, "nvrtcGetPTX", api->getPTX) && bind(lib, "nvrtcGetCUBINSize", api->getCUBINSize) &&
                      bind(lib, "nvrtcGetCUBIN", api->getCUBIN) &&
                      bind(lib, "nvrtcGetProgramLogSize", api->getProgramLogSize) &&
                      bind(lib, "nvrtcGetProgramLog", api->getProgramLog);
      if (!ok) {
        why = path + " lacks NVRTC entry points (" + dlerror() + ")";
        delete api;
        dlclose(lib);
        return;
      }
      loaded = new Nvrtc();
      loaded->api_ = api;
      loaded->path_ = path;
      return;
    }
    why = "NVRTC (libnvrtc) not found; looked for " + tried +
          "\nhint: install the CUDA toolkit, or point HRMC_NVRTC or CUDA_PATH at it";
  });
  if (!loaded) error = why;
  return loaded;
}

std::string Nvrtc::version() const {
  int major = 0, minor = 0;
  api_->version(&major, &minor);
  return std::to_string(major) + "." + std::to_string(minor);
}

bool Nvrtc::compile(const std::string& source, const std::string& name, const std::vector<NvrtcHeader>& headers,
                    const std::string& arch, const std::vector<std::string>& extraOptions, NvrtcResult& out,
                    std::string& error) const {
  std::vector<const char*> headerTexts, headerNames;
  for (const NvrtcHeader& h : headers) {
    headerTexts.push_back(h.text.c_str());
    headerNames.push_back(h.name.c_str());
  }
  Api::Program program = nullptr;
  int rc = api_->createProgram(&program, source.c_str(), name.c_str(), static_cast<int>(headers.size()),
                               headerTexts.data(), headerNames.data());
  if (rc != 0) {
    error = std::string("nvrtcCreateProgram: ") + api_->getErrorString(rc);
    return false;
  }
  const bool real = arch.rfind("sm_", 0) == 0;
  std::vector<std::string> options = {"--gpu-architecture=" + arch, "-std=c++17", "--minimal"};
  if (real) options.push_back("-Xptxas=-v");
  options.insert(options.end(), extraOptions.begin(), extraOptions.end());
  std::vector<const char*> argv;
  for (const std::string& o : options) argv.push_back(o.c_str());
  rc = api_->compileProgram(program, static_cast<int>(argv.size()), argv.data());
  size_t logSize = 0;
  api_->getProgramLogSize(program, &logSize);
  out.log.assign(logSize, '\0');
  if (logSize > 0) api_->getProgramLog(program, out.log.data());
  while (!out.log.empty() && out.log.back() == '\0') out.log.pop_back();
  if (rc == 0) {
    size_t size = 0;
    rc = real ? api_->getCUBINSize(program, &size) : api_->getPTXSize(program, &size);
    if (rc == 0) {
      out.binary.assign(size, '\0');
      rc = real ? api_->getCUBIN(program, out.binary.data()) : api_->getPTX(program, out.binary.data());
      if (!real)
        while (!out.binary.empty() && out.binary.back() == '\0') out.binary.pop_back();
    }
    if (rc != 0) error = std::string("reading NVRTC's output: ") + api_->getErrorString(rc);
  } else {
    error = "NVRTC could not compile " + name + " for " + arch + ":\n" + out.log;
  }
  api_->destroyProgram(&program);
  return rc == 0;
}

std::vector<PtxasReport> parsePtxasReport(const std::string& log) {
  // ptxas info    : Compiling entry function 'fused_3' for 'sm_90'
  // ptxas info    : Function properties for fused_3
  //     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
  // ptxas info    : Used 12 registers, used 1 barriers, 1024 bytes smem, 400 bytes cmem[0]
  static const std::regex entry(R"(Compiling entry function '([^']+)' for '([^']+)')");
  static const std::regex frame(R"((\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads)");
  static const std::regex used(R"(Used (\d+) registers)");
  static const std::regex barriers(R"(used (\d+) barriers)");
  static const std::regex smem(R"((\d+) bytes smem)");
  std::vector<PtxasReport> out;
  std::istringstream lines(log);
  std::string line;
  std::smatch m;
  while (std::getline(lines, line)) {
    if (std::regex_search(line, m, entry)) {
      out.push_back({m[1], m[2]});
      continue;
    }
    if (out.empty()) continue;
    PtxasReport& r = out.back();
    if (std::regex_search(line, m, frame)) {
      r.stackBytes = std::stoll(m[1]);
      r.spillStores = std::stoll(m[2]);
      r.spillLoads = std::stoll(m[3]);
    }
    if (std::regex_search(line, m, used)) r.registers = std::stoi(m[1]);
    if (std::regex_search(line, m, barriers)) r.barriers = std::stoi(m[1]);
    if (std::regex_search(line, m, smem)) r.sharedBytes = std::stoll(m[1]);
  }
  return out;
}

}  // namespace hrmc::compiler
