#include "runtime/cpu/CpuDevice.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <cstdio>
#include <string>

#include "compiler/DebugLevel.h"

#include "runtime/cpu/AttentionKernels.h"
#include "runtime/cpu/CpuKernels.h"
#include "runtime/cpu/KernelLoader.h"
#include "runtime/cpu/LossKernels.h"
#include "runtime/cpu/OneDnnGemm.h"
#include "runtime/cpu/OpenBlasGemm.h"
#include "runtime/cpu/ThreadPool.h"
#include "runtime/cpu/TrainingKernels.h"
#include "runtime/exec/MemoryPlan.h"
#include "runtime/exec/Types.h"

namespace hrmc::runtime::cpu {

using compiler::LaunchKind;

constexpr int64_t kConvertChunk = 1 << 15;  // elements per part of a bf16 conversion split over the pool

namespace {

// Calls a fused kernel through MLIR's C interface: each argument is a pointer to a memref
// descriptor {allocated, aligned, offset, sizes[rank], strides[rank]} of a dense row-major buffer.
void callFused(JitModule::Kernel kernel, const std::vector<char*>& data,
               const std::vector<std::vector<int64_t>>& shapes) {
  std::vector<std::vector<int64_t>> descriptors(data.size());
  std::vector<void*> pointers(data.size()), packed(data.size());
  for (size_t a = 0; a < data.size(); ++a) {
    const std::vector<int64_t>& s = shapes[a];
    std::vector<int64_t>& d = descriptors[a];
    d.assign(3 + 2 * s.size(), 0);
    d[0] = d[1] = reinterpret_cast<int64_t>(data[a]);
    int64_t stride = 1;
    for (size_t i = s.size(); i-- > 0;) {
      d[3 + i] = s[i];
      d[3 + s.size() + i] = stride;
      stride *= s[i];
    }
    pointers[a] = d.data();
    packed[a] = &pointers[a];
  }
  kernel(packed.data());
}

// A program's fused kernels in an ORC JIT; a row-parallel kernel runs on slices of its per-token
// operands, one per thread.
class JitKernels final : public LoadedKernels {
 public:
  explicit JitKernels(const compiler::CompiledProgram& compiled) : program_(compiled.program) {
    std::string error;
    code_ = loadKernels(compiled.binary, error);
    if (!code_) throw ExecError("cannot load the kernels of '" + program_.function + "': " + error);
    for (const compiler::Launch& l : program_.launches) {
      kernels_.push_back(l.kind == LaunchKind::Fused ? code_->kernel(l.kernel) : nullptr);
      if (l.kind == LaunchKind::Fused && !kernels_.back())
        throw ExecError("the compiled code of '" + program_.function + "' lacks kernel '" + l.kernel + "'");
    }
  }

  void launch(const LaunchArgs& a) override {
    const compiler::Launch& l = a.launch;
    std::vector<const DeviceTensor*> args;
    std::vector<int> values(l.inputs);
    values.insert(values.end(), l.outputs.begin(), l.outputs.end());
    for (const DeviceTensor& t : a.in) args.push_back(&t);
    for (const DeviceTensor& t : a.out) args.push_back(&t);
    const int64_t T = a.seq.tokens();
    auto call = [&](int64_t begin, int64_t end) {
      std::vector<char*> data;
      std::vector<std::vector<int64_t>> shapes;
      for (size_t k = 0; k < args.size(); ++k) {
        std::vector<int64_t> s = args[k]->shape;
        char* p = args[k]->data;
        const compiler::ProgramValue& pv = program_.values[values[k]];
        if (l.rowParallel && pv.perToken()) {  // this thread's rows of a per-token value
          p += begin * (args[k]->numel() / std::max<int64_t>(1, T)) * pv.elementBytes();
          s[0] = end - begin;
        }
        data.push_back(p);
        shapes.push_back(std::move(s));
      }
      callFused(kernels_[a.index], data, shapes);
    };
    if (l.rowParallel)
      ThreadPool::instance().parallelFor(T, 64, call);
    else
      call(0, T);
  }

 private:
  const compiler::KernelProgram& program_;
  std::unique_ptr<JitModule> code_;
  std::vector<JitModule::Kernel> kernels_;  // per launch (null for library launches)
};

bool isBf16(const DeviceTensor& t) { return t.type == compiler::ElementType::BF16; }
// A tensor's bf16 bits.
uint16_t* bits(const DeviceTensor& t) { return reinterpret_cast<uint16_t*>(t.data); }

// Appends each sample's new keys and values to its sequence's cache for attention launch `index`, then
// attends the new queries over the cache.
void attendWithCache(KvCache& cache, int index, const float* q, const float* k, const float* v, float* o,
                     const PackedSeq& seq, int64_t heads, int64_t hd, compiler::MaskKind mask) {
  const int64_t width = heads * hd;
  for (int64_t s = 0; s < seq.samples(); ++s) {
    KvCache::Sequence& sq = cache.sequences[cache.current[s]];
    if (static_cast<int>(sq.k.size()) <= index) {
      sq.k.resize(index + 1);
      sq.v.resize(index + 1);
    }
    const int64_t begin = seq.starts[s], rows = seq.prefixLens[s] + seq.causalLens[s];
    if (sq.length == 0) sq.prefix = mask == compiler::MaskKind::PrefixLM ? rows : 0;  // the prompt
    std::vector<float>& kc = sq.k[index];
    std::vector<float>& vc = sq.v[index];
    kc.insert(kc.end(), k + begin * width, k + (begin + rows) * width);
    vc.insert(vc.end(), v + begin * width, v + (begin + rows) * width);
    attentionCached(q + begin * width, kc.data(), vc.data(), o + begin * width, sq.length, rows, sq.prefix, heads, hd);
  }
}

}  // namespace

CpuDevice::CpuDevice() : gemm_(std::make_unique<OpenBlasGemm>()) {}

char* CpuDevice::allocate(int64_t bytes) {
  const int64_t rounded = (std::max<int64_t>(bytes, 1) + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
  char* p = static_cast<char*>(std::aligned_alloc(kArenaAlignment, rounded));
  if (!p) throw ExecError("cannot allocate " + std::to_string(bytes >> 20) + " MiB of host memory");
  return p;
}
void CpuDevice::release(char* data) { std::free(data); }
void CpuDevice::copyToDevice(char* dst, const void* src, int64_t bytes) { std::memcpy(dst, src, bytes); }
void CpuDevice::copyToHost(void* dst, const char* src, int64_t bytes) { std::memcpy(dst, src, bytes); }

std::unique_ptr<LoadedKernels> CpuDevice::load(const compiler::CompiledProgram& compiled) {
  return std::make_unique<JitKernels>(compiled);
}

#define HRMC_LIBRARY_LAUNCH(Kind, name, HrmOp) \
  void CpuDevice::launch##Kind(const LaunchArgs& args) { run(args, &CpuDevice::f32##Kind); }
#include "compiler/kernels/LibraryLaunches.def"

bool CpuDevice::runOnBf16Gemm(const LaunchArgs& a) {
  using compiler::ElementType;
  const LaunchKind kind = a.launch.kind;
  if (kind != LaunchKind::Linear && kind != LaunchKind::MatMul && kind != LaunchKind::OuterSum) return false;
  if (!isBf16(a.in[0]) || !isBf16(a.in[1])) return false;
  if (!bf16Gemm_) {  // on first use: it probes oneDNN
    std::string why;
    bf16Gemm_ = makeBf16Gemm(&why);
    if (compiler::debugLevel() >= 1)
      std::fprintf(stderr, "[hrmc] bf16 matrix products: %s%s\n", bf16Gemm_->name().c_str(), why.empty() ? "" : (" (" + why + ")").c_str());
  }
  const DeviceTensor& y = a.out[0];
  const GemmResult out = y.type == ElementType::F32 ? GemmResult(y.f32()) : GemmResult(bits(y));
  if (kind == LaunchKind::Linear) {
    const int64_t in = a.in[1].shape[1];
    bf16Gemm_->linear(bits(a.in[0]), bits(a.in[1]), out, a.in[0].numel() / in, in, a.in[1].shape[0]);
  } else if (kind == LaunchKind::MatMul) {
    const int64_t k = a.in[1].shape[0];
    bf16Gemm_->matmul(bits(a.in[0]), bits(a.in[1]), out, a.in[0].numel() / k, k, a.in[1].shape[1]);
  } else {
    const int64_t m = a.in[0].shape.back();
    bf16Gemm_->outerSum(bits(a.in[0]), bits(a.in[1]), out, a.in[0].numel() / m, m, a.in[1].shape.back());
  }
  return true;
}

bool CpuDevice::runOnBf16Kernel(const LaunchArgs& a) {
  using compiler::ElementType;
  const LaunchKind kind = a.launch.kind;
  const int64_t V = a.in[0].shape.back();
  // The losses read bf16 logits (and write their gradient in bf16); labels, losses and scales stay as they are.
  if (a.in.size() >= 2 && isBf16(a.in[0]) && a.in[1].type == ElementType::I32) {
    if (kind == LaunchKind::CrossEntropy && !isBf16(a.out[0])) {
      crossEntropy(bits(a.in[0]), a.in[1].i32(), a.out[0].f32(), a.in[0].shape[0], V);
      return true;
    }
    if (kind == LaunchKind::ArgmaxMatch && !isBf16(a.out[0])) {
      argmaxMatch(bits(a.in[0]), a.in[1].i32(), a.out[0].f32(), a.in[0].shape[0], V);
      return true;
    }
    if (kind == LaunchKind::CrossEntropyGrad && a.in.size() == 3 && !isBf16(a.in[2]) && isBf16(a.out[0])) {
      crossEntropyGrad(bits(a.in[0]), a.in[1].i32(), a.in[2].f32(), bits(a.out[0]), a.in[0].shape[0], V);
      return true;
    }
  }
  if (!std::all_of(a.in.begin(), a.in.end(), isBf16) || !std::all_of(a.out.begin(), a.out.end(), isBf16)) return false;
  if (kind == LaunchKind::RmsNormGrad) {
    rmsNormGrad(bits(a.in[0]), bits(a.in[1]), bits(a.out[0]), a.in[0].numel() / V, V, a.launch.eps);
    return true;
  }
  const int64_t heads = a.in[0].shape.size() == 3 ? a.in[0].shape[1] : 0, hd = heads ? a.in[0].shape[2] : 0;
  if (kind == LaunchKind::Rope) {
    rope(bits(a.in[0]), bits(a.out[0]), a.seq, heads, hd, a.launch.theta, a.launch.inverse);
    return true;
  }
  if ((kind != LaunchKind::Attention && kind != LaunchKind::AttentionGrad) || cache_) return false;
  const TileIsa isa = bestTileIsa();
  // Without AMX the widened fp32 kernel (OpenBLAS) is faster than the portable tile loop.
  if (isa != TileIsa::Amx || hd % kTileRows != 0) return false;
  if (kind == LaunchKind::Attention)
    attentionBf16(bits(a.in[0]), bits(a.in[1]), bits(a.in[2]), bits(a.out[0]), a.seq, heads, hd, a.launch.mask, isa);
  else
    attentionGradBf16(bits(a.in[0]), bits(a.in[1]), bits(a.in[2]), bits(a.in[3]), bits(a.out[0]), bits(a.out[1]),
                      bits(a.out[2]), a.seq, heads, hd, a.launch.mask, isa);
  return true;
}

float* CpuDevice::scratch(size_t slot, int64_t n) {
  if (scratch_.size() <= slot) scratch_.resize(slot + 1);
  Scratch& s = scratch_[slot];
  if (s.size < n) {
    s.data.reset(new float[static_cast<size_t>(n)]);
    s.size = n;
  }
  return s.data.get();
}

void CpuDevice::run(const LaunchArgs& a, void (CpuDevice::*f32)(const LaunchArgs&)) {
  using compiler::ElementType;
  if (std::none_of(a.in.begin(), a.in.end(), isBf16) && std::none_of(a.out.begin(), a.out.end(), isBf16))
    return (this->*f32)(a);
  if (runOnBf16Gemm(a) || runOnBf16Kernel(a)) return;
  LaunchArgs wide{a.launch, a.index, a.ordinal, a.in, a.out, a.seq};
  size_t copies = 0;
  auto widen = [&](DeviceTensor& t, bool read) {
    if (!isBf16(t)) return;
    float* c = scratch(copies++, t.numel());
    if (read) {
      const uint16_t* b = bits(t);
      ThreadPool::instance().parallelFor(t.numel(), kConvertChunk, [&](int64_t i0, int64_t i1) { widenBf16(b + i0, c + i0, i1 - i0); });
    }
    t.data = reinterpret_cast<char*>(c);
    t.type = ElementType::F32;
  };
  for (DeviceTensor& t : wide.in) widen(t, true);
  for (DeviceTensor& t : wide.out) widen(t, false);
  (this->*f32)(wide);
  for (size_t k = 0; k < a.out.size(); ++k)
    if (isBf16(a.out[k])) roundToBf16(wide.out[k].f32(), bits(a.out[k]), a.out[k].numel());
}

void CpuDevice::f32Linear(const LaunchArgs& a) {
  const int64_t in = a.in[1].shape[1], out = a.in[1].shape[0];
  gemm_->linear(a.in[0].f32(), a.in[1].f32(), a.out[0].f32(), a.in[0].numel() / in, in, out);
}
void CpuDevice::f32MatMul(const LaunchArgs& a) {
  const int64_t k = a.in[1].shape[0];
  gemm_->matmul(a.in[0].f32(), a.in[1].f32(), a.out[0].f32(), a.in[0].numel() / k, k, a.in[1].shape[1]);
}
void CpuDevice::f32OuterSum(const LaunchArgs& a) {
  const int64_t m = a.in[0].shape.back();
  gemm_->outerSum(a.in[0].f32(), a.in[1].f32(), a.out[0].f32(), a.in[0].numel() / m, m, a.in[1].shape.back());
}
void CpuDevice::f32Rope(const LaunchArgs& a) {
  rope(a.in[0].f32(), a.out[0].f32(), a.seq, a.in[0].shape[1], a.in[0].shape[2], a.launch.theta, a.launch.inverse);
}
void CpuDevice::f32Attention(const LaunchArgs& a) {
  const int64_t heads = a.in[0].shape[1], hd = a.in[0].shape[2];
  if (cache_)
    attendWithCache(*cache_, a.ordinal, a.in[0].f32(), a.in[1].f32(), a.in[2].f32(), a.out[0].f32(), a.seq, heads, hd,
                    a.launch.mask);
  else
    attention(a.in[0].f32(), a.in[1].f32(), a.in[2].f32(), a.out[0].f32(), a.seq, heads, hd, a.launch.mask);
}
void CpuDevice::f32AttentionGrad(const LaunchArgs& a) {
  attentionGrad(a.in[0].f32(), a.in[1].f32(), a.in[2].f32(), a.in[3].f32(), a.out[0].f32(), a.out[1].f32(),
                a.out[2].f32(), a.seq, a.in[0].shape[1], a.in[0].shape[2], a.launch.mask);
}
void CpuDevice::f32CrossEntropy(const LaunchArgs& a) {
  crossEntropy(a.in[0].f32(), a.in[1].i32(), a.out[0].f32(), a.in[0].shape[0], a.in[0].shape[1]);
}
void CpuDevice::f32CrossEntropyGrad(const LaunchArgs& a) {
  crossEntropyGrad(a.in[0].f32(), a.in[1].i32(), a.in[2].f32(), a.out[0].f32(), a.in[0].shape[0], a.in[0].shape[1]);
}
void CpuDevice::f32ArgmaxMatch(const LaunchArgs& a) {
  argmaxMatch(a.in[0].f32(), a.in[1].i32(), a.out[0].f32(), a.in[0].shape[0], a.in[0].shape[1]);
}
void CpuDevice::f32LabelMean(const LaunchArgs& a) {
  a.out[0].f32()[0] = labelMean(a.in[0].f32(), a.in[1].i32(), a.in[0].numel());
}
void CpuDevice::f32LabelMeanGrad(const LaunchArgs& a) {
  labelMeanGrad(a.in[0].i32(), a.in[1].f32()[0], a.out[0].f32(), a.in[0].numel());
}
void CpuDevice::f32ExactMatch(const LaunchArgs& a) {
  a.out[0].f32()[0] = exactMatch(a.in[0].f32(), a.in[1].i32(), a.seq);
}
void CpuDevice::f32EmbeddingGrad(const LaunchArgs& a) {
  embeddingGrad(a.in[0].i32(), a.in[1].f32(), a.out[0].f32(), a.in[0].numel(), a.in[1].shape.back(), a.launch.vocab);
}
void CpuDevice::f32RmsNormGrad(const LaunchArgs& a) {
  const int64_t d = a.in[0].shape.back();
  rmsNormGrad(a.in[0].f32(), a.in[1].f32(), a.out[0].f32(), a.in[0].numel() / d, d, a.launch.eps);
}
void CpuDevice::f32Unbroadcast(const LaunchArgs& a) {
  unbroadcast(a.in[0].f32(), a.in[0].shape, a.out[0].f32(), a.out[0].shape);
}
void CpuDevice::f32MaxGrad(const LaunchArgs& a) {
  maxGrad(a.in[0].f32(), a.in[1].f32(), a.out[0].f32(), a.in[0].shape, a.launch.axis);
}

void CpuDevice::roundToBf16(const float* src, uint16_t* dst, int64_t n) {
  ThreadPool::instance().parallelFor(n, kConvertChunk, [&](int64_t i0, int64_t i1) { roundToBf16Bits(src + i0, dst + i0, i1 - i0); });
}
void CpuDevice::zero(float* data, int64_t n) { std::memset(data, 0, n * sizeof(float)); }
void CpuDevice::accumulate(float* acc, const float* g, float weight, int64_t n) { cpu::accumulate(acc, g, weight, n); }
void CpuDevice::adamAtan2(const AdamAtan2Tensors& t, int64_t n, const AdamAtan2Step& step) { cpu::adamAtan2(t, n, step); }

}  // namespace hrmc::runtime::cpu
