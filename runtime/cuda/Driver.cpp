#include "runtime/cuda/Driver.h"

#include <dlfcn.h>

#include <mutex>

namespace hrmc::runtime::cuda {

namespace {

// The few driver types used here, declared as the driver's C ABI has them (cuda.h is in the toolkit,
// which a build machine may lack): results and devices are ints.
using CUresult = int;
using GetProcAddress = CUresult (*)(const char*, void**, int, unsigned long long, int*);
using GetProcAddressV1 = CUresult (*)(const char*, void**, int, unsigned long long);
constexpr int kApiVersion = 12000;  // the entry points' versions as of CUDA 12.0
constexpr int kAttrMultiprocessors = 16, kAttrMajor = 75, kAttrMinor = 76;

struct Api {
  CUresult (*init)(unsigned);
  CUresult (*driverGetVersion)(int*);
  CUresult (*deviceGetCount)(int*);
  CUresult (*deviceGet)(int*, int);
  CUresult (*deviceGetName)(char*, int, int);
  CUresult (*deviceGetAttribute)(int*, int, int);
  CUresult (*getErrorString)(CUresult, const char**);
};

}  // namespace

const Driver* Driver::get(std::string& error) {
  static std::once_flag once;
  static Driver* loaded = nullptr;
  static std::string why;
  std::call_once(once, [] {
    void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      why = std::string("no CUDA driver: ") + dlerror() +
            "\nhint: the cuda backend needs an NVIDIA GPU and its driver; use --backend cpu here";
      return;
    }
    void* entry = dlsym(lib, "cuGetProcAddress_v2");
    void* v1 = entry ? nullptr : dlsym(lib, "cuGetProcAddress");
    if (!entry && !v1) {
      why = "the CUDA driver (libcuda.so.1) is older than CUDA 11.3: it has no cuGetProcAddress\nhint: update the driver";
      return;
    }
    auto resolve = [&](const char* symbol, auto& f) {
      void* p = nullptr;
      int status = 0;
      const CUresult rc = entry ? reinterpret_cast<GetProcAddress>(entry)(symbol, &p, kApiVersion, 0, &status)
                                : reinterpret_cast<GetProcAddressV1>(v1)(symbol, &p, kApiVersion, 0);
      f = rc == 0 ? reinterpret_cast<std::remove_reference_t<decltype(f)>>(p) : nullptr;
      return f != nullptr;
    };
    Api api{};
    if (!resolve("cuInit", api.init) || !resolve("cuDriverGetVersion", api.driverGetVersion) ||
        !resolve("cuDeviceGetCount", api.deviceGetCount) || !resolve("cuDeviceGet", api.deviceGet) ||
        !resolve("cuDeviceGetName", api.deviceGetName) || !resolve("cuDeviceGetAttribute", api.deviceGetAttribute) ||
        !resolve("cuGetErrorString", api.getErrorString)) {
      why = "the CUDA driver lacks an entry point hrmc needs (API version 12.0)\nhint: update the driver";
      return;
    }
    auto failed = [&](const char* call, CUresult rc) {
      const char* text = nullptr;
      api.getErrorString(rc, &text);
      why = std::string(call) + " failed: " + (text ? text : "error " + std::to_string(rc)) +
            "\nhint: is a GPU visible here (nvidia-smi, CUDA_VISIBLE_DEVICES)?";
    };
    if (CUresult rc = api.init(0); rc != 0) return failed("cuInit", rc);
    auto* d = new Driver();
    api.driverGetVersion(&d->version_);
    int count = 0;
    if (CUresult rc = api.deviceGetCount(&count); rc != 0) {
      delete d;
      return failed("cuDeviceGetCount", rc);
    }
    for (int i = 0; i < count; ++i) {
      int device = 0;
      if (api.deviceGet(&device, i) != 0) continue;
      GpuInfo g;
      g.ordinal = i;
      char name[256] = {};
      api.deviceGetName(name, sizeof name, device);
      g.name = name;
      api.deviceGetAttribute(&g.major, kAttrMajor, device);
      api.deviceGetAttribute(&g.minor, kAttrMinor, device);
      api.deviceGetAttribute(&g.multiprocessors, kAttrMultiprocessors, device);
      d->gpus_.push_back(g);
    }
    if (d->gpus_.empty()) {
      why = "the CUDA driver " + d->versionText() + " sees no GPU\nhint: is CUDA_VISIBLE_DEVICES set to nothing?";
      delete d;
      return;
    }
    loaded = d;
  });
  if (!loaded) error = why;
  return loaded;
}

}  // namespace hrmc::runtime::cuda
