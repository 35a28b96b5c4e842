#include "runtime/cpu/CpuExecutor.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>

#include "compiler/DebugLevel.h"
#include "runtime/cpu/AttentionKernels.h"
#include "runtime/cpu/CpuKernels.h"
#include "runtime/cpu/ThreadPool.h"
#include "runtime/cpu/KernelLoader.h"
#include "runtime/cpu/LossKernels.h"
#include "runtime/exec/WeightCheck.h"

namespace hrmc::runtime::cpu {

using compiler::ElementType;
using compiler::Launch;
using compiler::LaunchKind;

namespace {

constexpr int64_t kAlign = kArenaAlignment;

std::vector<int64_t> concreteShape(const compiler::ProgramValue& v, int64_t T) {
  std::vector<int64_t> s = v.shape;
  for (int64_t& d : s)
    if (d < 0) d = T;
  return s;
}

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

CpuExecutor::CpuExecutor(const compiler::CompiledProgram& compiled)
    : program_(compiled.program), debug_(compiler::debugLevel()) {
  std::string error;
  code_ = loadKernels(compiled.binary, error);
  if (!code_) throw ExecError("cannot load the kernels of '" + program_.function + "': " + error);
  for (const Launch& l : program_.launches) {
    kernels_.push_back(l.kind == LaunchKind::Fused ? code_->kernel(l.kernel) : nullptr);
    if (l.kind == LaunchKind::Fused && !kernels_.back())
      throw ExecError("the compiled code of '" + program_.function + "' lacks kernel '" + l.kernel + "'");
  }
}

const MemoryPlan& CpuExecutor::plan(int64_t T) {
  if (plan_.tokens != T || plan_.offsets.empty()) {
    plan_ = planMemory(program_, T);
    if (debug_ >= 1)
      std::fprintf(stderr, "[hrmc] %s at T = %lld: arena %.1f MiB planned (live-set peak %.1f MiB)\n",
                   program_.function.c_str(), static_cast<long long>(T), plan_.arenaBytes / 1048576.0,
                   plan_.liveBytesPeak / 1048576.0);
  }
  return plan_;
}

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

}  // namespace

bool CpuExecutor::supportsKvCache(std::string& why) const {
  for (const Launch& l : program_.launches) {
    const bool rowWise = l.kind == LaunchKind::Fused ? l.rowParallel
                         : l.kind == LaunchKind::Attention ? l.mask != compiler::MaskKind::Full
                                                           : l.kind == LaunchKind::Linear || l.kind == LaunchKind::MatMul ||
                                                                 l.kind == LaunchKind::Rope;
    if (!rowWise) {
      why = "'" + l.name() + "' (" + l.location + ") does not work row by row";
      return false;
    }
  }
  return true;
}

std::vector<HostTensor<float>> CpuExecutor::run(const PackedBatch& batch, const WeightMap& weights, KvCache* cache) {
  const PackedSeq& seq = batch.seq;
  const int64_t T = seq.tokens();
  if (static_cast<int64_t>(batch.inputs.size()) != T || static_cast<int64_t>(batch.labels.size()) != T)
    throw BatchError("the batch has " + std::to_string(batch.inputs.size()) + " tokens and " +
                     std::to_string(batch.labels.size()) + " labels for " + std::to_string(T) + " positions");
  const MemoryPlan& mp = plan(T);
  if (arenaCapacity_ < mp.arenaBytes) {
    arena_.reset(static_cast<char*>(std::aligned_alloc(kAlign, std::max<int64_t>(kAlign, mp.arenaBytes))));
    if (!arena_) throw ExecError("cannot allocate the " + std::to_string(mp.arenaBytes >> 20) + " MiB activation arena");
    arenaCapacity_ = mp.arenaBytes;
  }

  // Bind every value to memory: arguments to the batch and the weights, the rest to the arena.
  const size_t n = program_.values.size();
  std::vector<char*> at(n, nullptr);
  std::vector<std::vector<int64_t>> shape(n);
  std::vector<std::vector<uint16_t>> bf16Copies;
  for (size_t v = 0; v < n; ++v) {
    const compiler::ProgramValue& pv = program_.values[v];
    shape[v] = concreteShape(pv, T);
    if (pv.argument < 0) {
      at[v] = arena_.get() + mp.offsets[v];
      continue;
    }
    const std::string& name = program_.argumentNames[pv.argument];
    if (name == "tokens" || name == "labels") {
      at[v] = reinterpret_cast<char*>(const_cast<int32_t*>(name == "tokens" ? batch.inputs.data() : batch.labels.data()));
      continue;
    }
    checkWeightFits(weights, name, shape[v]);
    auto w = weights.find(name);
    if (pv.type == ElementType::BF16) {  // a bf16 buffer (zL_init): round what the caller supplied
      std::vector<uint16_t>& bits = bf16Copies.emplace_back(w->second.numel());
      for (int64_t i = 0; i < w->second.numel(); ++i) {
        const float r = roundToBf16(w->second.data[i]);
        uint32_t u;
        std::memcpy(&u, &r, sizeof u);
        bits[i] = static_cast<uint16_t>(u >> 16);
      }
      at[v] = reinterpret_cast<char*>(bits.data());
    } else {
      at[v] = reinterpret_cast<char*>(const_cast<float*>(w->second.data.data()));
    }
  }
  for (auto [v, vocab] : program_.tokenChecks) {
    const int32_t* tok = reinterpret_cast<const int32_t*>(at[v]);
    for (int64_t t = 0; t < T; ++t)
      if (tok[t] < 0 || tok[t] >= vocab)
        throw ExecError("token id " + std::to_string(tok[t]) + " at position " + std::to_string(t) +
                        " is outside the vocabulary [0, " + std::to_string(vocab) + ")");
  }

  auto f = [&](int v) { return reinterpret_cast<float*>(at[v]); };
  auto ints = [&](int v) { return reinterpret_cast<const int32_t*>(at[v]); };
  auto numel = [&](int v) { return HostTensor<float>::numelOf(shape[v]); };
  int64_t live = 0;
  int attentionIndex = 0;  // which attention launch (step and layer): its own KV cache
  measuredPeak_ = 0;
  for (size_t i = 0; i < program_.launches.size(); ++i) {
    const Launch& l = program_.launches[i];
    const auto& in = l.inputs;
    const auto& out = l.outputs;
    for (int v : out) live += mp.bytes[v];
    measuredPeak_ = std::max(measuredPeak_, live);
    const auto start = std::chrono::steady_clock::now();
    double flops = 0;
    std::string dims;  // of a matrix product, for the debug line: rows × inner × columns
    auto gemm = [&](int64_t rows, int64_t inner, int64_t cols) {
      flops = 2.0 * rows * inner * cols;
      if (debug_ >= 1) dims = std::to_string(rows) + "x" + std::to_string(inner) + "x" + std::to_string(cols);
    };
    switch (l.kind) {
      case LaunchKind::Fused: {
        std::vector<int> args(in);
        args.insert(args.end(), out.begin(), out.end());
        auto call = [&](int64_t begin, int64_t end) {
          std::vector<char*> data;
          std::vector<std::vector<int64_t>> shapes;
          for (int v : args) {
            const compiler::ProgramValue& pv = program_.values[v];
            std::vector<int64_t> s = shape[v];
            char* p = at[v];
            if (l.rowParallel && pv.perToken()) {  // this thread's rows of a per-token value
              p += begin * (numel(v) / std::max<int64_t>(1, T)) * pv.elementBytes();
              s[0] = end - begin;
            }
            data.push_back(p);
            shapes.push_back(std::move(s));
          }
          callFused(kernels_[i], data, shapes);
        };
        if (l.rowParallel)
          ThreadPool::instance().parallelFor(T, 64, call);
        else
          call(0, T);
        break;
      }
      case LaunchKind::Linear: {
        const int64_t inF = shape[in[1]][1], outF = shape[in[1]][0], rows = numel(in[0]) / inF;
        cpu::linear(f(in[0]), f(in[1]), f(out[0]), rows, inF, outF);
        gemm(rows, inF, outF);
        break;
      }
      case LaunchKind::MatMul: {
        const int64_t k = shape[in[1]][0], nn = shape[in[1]][1], rows = numel(in[0]) / k;
        cpu::matmul(f(in[0]), f(in[1]), f(out[0]), rows, k, nn);
        gemm(rows, k, nn);
        break;
      }
      case LaunchKind::OuterSum: {
        const int64_t m = shape[in[0]].back(), nn = shape[in[1]].back(), rows = numel(in[0]) / m;
        cpu::outerSum(f(in[0]), f(in[1]), f(out[0]), rows, m, nn);
        gemm(m, rows, nn);
        break;
      }
      case LaunchKind::Rope:
        rope(f(in[0]), f(out[0]), seq, shape[in[0]][1], shape[in[0]][2], l.theta, l.inverse);
        break;
      case LaunchKind::Attention:
        if (cache)
          attendWithCache(*cache, attentionIndex, f(in[0]), f(in[1]), f(in[2]), f(out[0]), seq, shape[in[0]][1],
                          shape[in[0]][2], l.mask);
        else
          attention(f(in[0]), f(in[1]), f(in[2]), f(out[0]), seq, shape[in[0]][1], shape[in[0]][2], l.mask);
        ++attentionIndex;
        // two products (scores, probabilities · v) over the attended pairs
        if (debug_ >= 1) flops = 4.0 * attendedPairs(seq, l.mask) * shape[in[0]][1] * shape[in[0]][2];
        break;
      case LaunchKind::AttentionGrad:
        attentionGrad(f(in[0]), f(in[1]), f(in[2]), f(in[3]), f(out[0]), f(out[1]), f(out[2]), seq, shape[in[0]][1],
                      shape[in[0]][2], l.mask);
        // five products: the recomputed scores, dp, dq, dk, dv
        if (debug_ >= 1) flops = 10.0 * attendedPairs(seq, l.mask) * shape[in[0]][1] * shape[in[0]][2];
        break;
      case LaunchKind::CrossEntropy:
        cpu::crossEntropy(f(in[0]), ints(in[1]), f(out[0]), shape[in[0]][0], shape[in[0]][1]);
        break;
      case LaunchKind::CrossEntropyGrad:
        cpu::crossEntropyGrad(f(in[0]), ints(in[1]), f(in[2]), f(out[0]), shape[in[0]][0], shape[in[0]][1]);
        break;
      case LaunchKind::ArgmaxMatch:
        cpu::argmaxMatch(f(in[0]), ints(in[1]), f(out[0]), shape[in[0]][0], shape[in[0]][1]);
        break;
      case LaunchKind::LabelMean:
        f(out[0])[0] = cpu::labelMean(f(in[0]), ints(in[1]), numel(in[0]));
        break;
      case LaunchKind::LabelMeanGrad:
        cpu::labelMeanGrad(ints(in[0]), f(in[1])[0], f(out[0]), numel(in[0]));
        break;
      case LaunchKind::ExactMatch:
        f(out[0])[0] = cpu::exactMatch(f(in[0]), ints(in[1]), seq);
        break;
      case LaunchKind::EmbeddingGrad:
        cpu::embeddingGrad(ints(in[0]), f(in[1]), f(out[0]), numel(in[0]), shape[in[1]].back(), l.vocab);
        break;
      case LaunchKind::RmsNormGrad:
        rmsNormGrad(f(in[0]), f(in[1]), f(out[0]), numel(in[0]) / shape[in[0]].back(), shape[in[0]].back(), l.eps);
        break;
      case LaunchKind::Unbroadcast:
        unbroadcast(f(in[0]), shape[in[0]], f(out[0]), shape[out[0]]);
        break;
      case LaunchKind::MaxGrad:
        maxGrad(f(in[0]), f(in[1]), f(out[0]), shape[in[0]], l.axis);
        break;
    }
    if (debug_ >= 1) {
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      double bytes = 0;
      for (int v : in) bytes += numel(v) * program_.values[v].elementBytes();
      for (int v : out) bytes += numel(v) * program_.values[v].elementBytes();
      std::fprintf(stderr, "[hrmc] %-18s %-15s %9.3f ms %8.1f GFLOP/s %7.1f GB/s  %s\n", l.name().c_str(), dims.c_str(),
                   seconds * 1e3, flops / seconds * 1e-9, bytes / seconds * 1e-9, l.location.c_str());
    }
    std::vector<int> ending;  // values whose last use was this launch
    for (int v : in) ending.push_back(v);
    for (int v : out) ending.push_back(v);
    std::sort(ending.begin(), ending.end());
    ending.erase(std::unique(ending.begin(), ending.end()), ending.end());
    for (int v : ending)
      if (program_.values[v].argument < 0 && mp.lastLaunch[v] == static_cast<int>(i)) live -= mp.bytes[v];
  }

  if (cache)
    for (int64_t s = 0; s < seq.samples(); ++s)
      cache->sequences[cache->current[s]].length += seq.prefixLens[s] + seq.causalLens[s];

  std::vector<HostTensor<float>> results;
  for (int v : program_.results) {
    HostTensor<float> r(shape[v]);
    const compiler::ProgramValue& pv = program_.values[v];
    if (pv.type == ElementType::F32) {
      std::memcpy(r.data.data(), at[v], r.data.size() * sizeof(float));
    } else if (pv.type == ElementType::I32) {
      for (int64_t e = 0; e < r.numel(); ++e) r.data[e] = static_cast<float>(ints(v)[e]);
    } else {
      throw ExecError("a bf16 result is not supported");
    }
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace hrmc::runtime::cpu
