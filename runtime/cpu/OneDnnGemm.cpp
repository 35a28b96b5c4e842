#include "runtime/cpu/OneDnnGemm.h"

#include <omp.h>

#include <cstdio>

#include <oneapi/dnnl/dnnl.hpp>

#include "compiler/DebugLevel.h"
#include "runtime/cpu/ThreadPool.h"
#include "runtime/cpu/WidenedBf16Gemm.h"
#include "runtime/exec/Types.h"

namespace hrmc::runtime::cpu {

using dt = dnnl::memory::data_type;

// One CPU engine for the process: each thread's stream (below) is made for it, so every OneDnnGemm
// must use the same one (a stream of another engine cannot run a primitive).
dnnl::engine& cpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

struct OneDnnGemm::Impl {
  dnnl::engine& engine = cpuEngine();
  std::mutex mutex;  // guards the primitives; executing one is thread-safe
  // A product of one shape. Its scratchpad is the caller's (user mode), so that the pool's threads can
  // run one primitive at once whatever oneDNN's build options.
  struct Product {
    dnnl::matmul matmul;
    size_t scratchpadBytes;
  };
  std::map<std::vector<int64_t>, std::unique_ptr<Product>> products;  // by dims and strides
  std::map<std::string, int> implementations;  // shapes made per oneDNN implementation

  const Product& product(const std::vector<int64_t>& key, const dnnl::memory::desc& a, const dnnl::memory::desc& b,
                         const dnnl::memory::desc& y) {
    std::lock_guard<std::mutex> lock(mutex);
    auto& slot = products[key];
    if (!slot) {
      dnnl::primitive_attr attr;
      attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, b, y), attr, engine);
      ++implementations[pd.impl_info_str()];
      if (compiler::debugLevel() >= 1)
        std::fprintf(stderr, "[hrmc] oneDNN bf16 product %lldx%lldx%lld%s: %s\n", static_cast<long long>(key[0]),
                     static_cast<long long>(key[1]), static_cast<long long>(key[2]), key[8] ? " (bf16 result)" : "",
                     pd.impl_info_str());
      slot = std::make_unique<Product>(Product{dnnl::matmul(pd), pd.scratchpad_desc().get_size()});
    }
    return *slot;
  }
};

OneDnnGemm::OneDnnGemm() : impl_(std::make_unique<Impl>()) {}
OneDnnGemm::~OneDnnGemm() = default;

bool oneDnnBf16Native() {
  const dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
  return isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx;
}

bool OneDnnGemm::native() const { return oneDnnBf16Native(); }

std::string OneDnnGemm::name() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  if (impl_->implementations.empty()) return "oneDNN (no product run yet)";
  std::string name = "oneDNN";
  for (const auto& [implementation, shapes] : impl_->implementations)
    name += (name.size() > 6 ? ", " : " ") + implementation + " (" + std::to_string(shapes) + (shapes == 1 ? " shape)" : " shapes)");
  return name;
}

void OneDnnGemm::multiply(const uint16_t* a, const std::vector<int64_t>& sa, const uint16_t* b,
                          const std::vector<int64_t>& sb, GemmResult y, int64_t ldy, int64_t m, int64_t k, int64_t n) {
  // A pool thread runs its part on one oneDNN (OpenMP) thread.
  thread_local const bool oneThread = (omp_set_num_threads(1), true);
  (void)oneThread;
  const dnnl::memory::desc ad({m, k}, dt::bf16, {sa[0], sa[1]}), bd({k, n}, dt::bf16, {sb[0], sb[1]}),
      yd({m, n}, y.bf16 ? dt::bf16 : dt::f32, {ldy, 1});
  try {
    const Impl::Product& p = impl_->product({m, k, n, sa[0], sa[1], sb[0], sb[1], ldy, y.bf16}, ad, bd, yd);
    thread_local dnnl::stream stream(impl_->engine);
    thread_local std::vector<char> scratchpad;
    if (scratchpad.size() < p.scratchpadBytes) scratchpad.resize(p.scratchpadBytes);
    dnnl::memory am(ad, impl_->engine, const_cast<uint16_t*>(a)), bm(bd, impl_->engine, const_cast<uint16_t*>(b)),
        ym(yd, impl_->engine, y.data),
        sm(dnnl::memory::desc({static_cast<int64_t>(p.scratchpadBytes)}, dt::u8, {1}), impl_->engine, scratchpad.data());
    p.matmul.execute(stream, {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, ym}, {DNNL_ARG_SCRATCHPAD, sm}});
    stream.wait();
  } catch (const dnnl::error& e) {
    throw ExecError(std::string("oneDNN cannot run a bf16 matrix product of ") + std::to_string(m) + "x" +
                    std::to_string(k) + "x" + std::to_string(n) + " on this CPU: " + e.what());
  }
}

void OneDnnGemm::linear(const uint16_t* x, const uint16_t* w, GemmResult y, int64_t rows, int64_t in, int64_t out) {
  ThreadPool::instance().parallelFor(rows, 32, [&](int64_t r0, int64_t r1) {
    multiply(x + r0 * in, {in, 1}, w, {1, in}, y.at(r0 * out), out, r1 - r0, in, out);  // w[o, i] read as [i, o]
  });
}

void OneDnnGemm::matmul(const uint16_t* a, const uint16_t* b, GemmResult y, int64_t rows, int64_t k, int64_t n) {
  ThreadPool::instance().parallelFor(rows, 32, [&](int64_t r0, int64_t r1) {
    multiply(a + r0 * k, {k, 1}, b, {n, 1}, y.at(r0 * n), n, r1 - r0, k, n);
  });
}

void OneDnnGemm::outerSum(const uint16_t* a, const uint16_t* b, GemmResult y, int64_t rows, int64_t m, int64_t n) {
  // aᵀ (m × rows) times b's columns: each thread writes its own columns of y.
  ThreadPool::instance().parallelFor(n, 16, [&](int64_t c0, int64_t c1) {
    multiply(a, {1, m}, b + c0, {n, 1}, y.at(c0), n, m, rows, c1 - c0);
  });
}

std::unique_ptr<Bf16Gemm> makeBf16Gemm(std::string* why) {
  try {
    const uint16_t one = 0x3f80;
    float y = 0;
    OneDnnGemm().matmul(&one, &one, &y, 1, 1, 1);  // a probe: oneDNN 2.6 has no bf16 below AVX-512
    if (y == 1.0f) return std::make_unique<OneDnnGemm>();  // a new one: its name() lists the real products
    if (why) *why = "oneDNN's bf16 product gave a wrong result";
  } catch (const ExecError& e) {
    if (why) *why = e.what();
  }
  return std::make_unique<WidenedBf16Gemm>();
}

}  // namespace hrmc::runtime::cpu
