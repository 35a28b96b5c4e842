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
#include "runtime/cuda/AttentionIntervals.h"
#include "runtime/exec/Labels.h"
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

// `source` compiled into a shared object in a fresh folder beside hrmc's CUDA headers, loaded, and the
// folder removed.
void* compileForHost(const std::string& source, const std::string& what) {
  std::string pattern = (fs::temp_directory_path() / "hrmc-cuda-host-XXXXXX").string();
  const char* made = mkdtemp(pattern.data());
  if (!made) throw ExecError("cannot make a folder for the host build of " + what);
  const fs::path dir(made);
  for (const compiler::NvrtcHeader& h : compiler::cudaHeaders()) write(dir / h.name, h.text);
  write(dir / "kernels.cpp", source);
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
  if (!lib) throw ExecError("the CUDA C of " + what + " does not compile for the host:\n" + log);
  return lib;
}

HostEntry entryOf(void* lib, const std::string& kernel) {
  auto entry = reinterpret_cast<HostEntry>(dlsym(lib, (kernel + "_host").c_str()));
  if (!entry) throw ExecError("the host build lacks CUDA kernel '" + kernel + "'");
  return entry;
}

class HostKernels final : public LoadedKernels {
 public:
  HostKernels(const compiler::CompiledProgram& compiled, int threads) : program_(compiled.program), threads_(threads) {
    if (!bundle_.unpack(compiled.binary))
      throw ExecError("the code of '" + program_.function + "' is not a CUDA bundle (compiled for " + compiled.target + "?)");
    lib_ = compileForHost(bundle_.source, "'" + program_.function + "'");
    for (const compiler::Launch& l : program_.launches) {
      if (l.kind != compiler::LaunchKind::Fused) {
        entries_.push_back(nullptr);
        shapes_.push_back(nullptr);
        continue;
      }
      auto shape = std::find_if(bundle_.kernels.begin(), bundle_.kernels.end(),
                                [&](const compiler::CudaKernelShape& s) { return s.name == l.kernel; });
      if (shape == bundle_.kernels.end())
        throw ExecError("the CUDA code of '" + program_.function + "' lacks kernel '" + l.kernel + "'");
      entries_.push_back(entryOf(lib_, l.kernel));
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

// The attention operands' head count, head dimension and storage; throws for what the kernels lack.
struct AttentionShape {
  int heads;
  int64_t hd;
  bool bf16;
};
AttentionShape attentionShape(const LaunchArgs& a) {
  const DeviceTensor& q = a.in[0];
  const AttentionShape s{static_cast<int>(q.shape[1]), q.shape[2], q.type == compiler::ElementType::BF16};
  for (const auto* group : {&a.in, &a.out})
    for (const DeviceTensor& t : *group)
      if (t.type != q.type) throw ExecError("the CUDA attention kernels take operands of one dtype");
  if (!compiler::attentionHeadDimSupported(s.hd))
    throw ExecError("no CUDA attention kernel for head dimension " + std::to_string(s.hd) + " (32, 64 and 128 are built)");
  return s;
}

// Blocks of an attention kernel: a tile of 16 rows (kAttnRows, kAttnKeys in hrm_attention.cuh) per head.
int64_t attentionBlocks(int64_t T, int heads) { return (T + 15) / 16 * heads; }

}  // namespace

HostEmulatedDevice::~HostEmulatedDevice() {
  if (libraryLib_) dlclose(libraryLib_);
}

std::unique_ptr<LoadedKernels> HostEmulatedDevice::load(const compiler::CompiledProgram& compiled) {
  return std::make_unique<HostKernels>(compiled, threads_);
}

void HostEmulatedDevice::runLibraryKernel(const std::string& kernel, int64_t blocks, std::vector<void*> args) {
  if (!libraryLib_) libraryLib_ = compileForHost(compiler::cudaLibrarySource(), "hrmc's CUDA library kernels");
  if (blocks > 0) entryOf(libraryLib_, kernel)(blocks, threads_, args.data());
}

bool HostEmulatedDevice::runOwn(compiler::LaunchKind kind, const LaunchArgs& a) {
  using compiler::ElementType;
  using compiler::LaunchKind;
  if (kind == LaunchKind::Attention) attention(a);
  else if (kind == LaunchKind::AttentionGrad) attentionGrad(a);
  else if (kind == LaunchKind::Rope || kind == LaunchKind::RmsNormGrad) return rowKernel(a);
  else if (kind == LaunchKind::CrossEntropy || kind == LaunchKind::CrossEntropyGrad || kind == LaunchKind::ArgmaxMatch)
    return crossEntropy(a);
  else if (kind == LaunchKind::EmbeddingGrad) return embeddingGrad(a);
  else if (kind == LaunchKind::Unbroadcast || kind == LaunchKind::MaxGrad || kind == LaunchKind::LabelMean ||
           kind == LaunchKind::LabelMeanGrad || kind == LaunchKind::ExactMatch)
    return smallKernel(a);
  else return false;
  return true;
}

// RoPE and the RMSNorm gradient, where every operand has one float dtype.
bool HostEmulatedDevice::rowKernel(const LaunchArgs& a) {
  const compiler::ElementType type = a.in[0].type;
  if (type == compiler::ElementType::I32) return false;
  for (const auto* group : {&a.in, &a.out})
    for (const DeviceTensor& t : *group)
      if (t.type != type) return false;
  const bool bf16 = type == compiler::ElementType::BF16;
  long long T = a.seq.tokens();
  if (a.launch.kind == compiler::LaunchKind::Rope) {
    int heads = static_cast<int>(a.in[0].shape[1]), hd = static_cast<int>(a.in[0].shape[2]), inverse = a.launch.inverse;
    float theta = static_cast<float>(a.launch.theta);
    runLibraryKernel(compiler::rowKernelName("rope", bf16), T,
                     {a.in[0].data, a.out[0].data, const_cast<int32_t*>(a.seq.positions.data()), &T, &heads, &hd, &theta,
                      &inverse});
    return true;
  }
  int d = static_cast<int>(a.in[0].shape.back());
  long long rows = a.in[0].numel() / d;
  float eps = static_cast<float>(a.launch.eps);
  runLibraryKernel(compiler::rowKernelName("rms_norm_grad", bf16), rows,
                   {a.in[0].data, a.in[1].data, a.out[0].data, &rows, &d, &eps});
  return true;
}

// Cross entropy, its gradient and the argmax match on float or bf16 logits, i32 labels, fp32 losses,
// matches and scales.
bool HostEmulatedDevice::crossEntropy(const LaunchArgs& a) {
  using compiler::ElementType;
  const ElementType logits = a.in[0].type;
  const bool grad = a.launch.kind == compiler::LaunchKind::CrossEntropyGrad;
  const char* kernel = grad ? "cross_entropy_grad" : a.launch.kind == compiler::LaunchKind::ArgmaxMatch ? "argmax_match" : "cross_entropy";
  if (logits == ElementType::I32 || a.in[1].type != ElementType::I32) return false;
  if (grad ? (a.in[2].type != ElementType::F32 || a.out[0].type != logits) : a.out[0].type != ElementType::F32)
    return false;
  long long T = a.in[0].shape[0], V = a.in[0].shape[1];
  checkLabels(a.in[1].i32(), T, V);
  const bool bf16 = logits == ElementType::BF16;
  if (grad)
    runLibraryKernel(compiler::rowKernelName("cross_entropy_grad", bf16), T,
                     {a.in[0].data, a.in[1].data, a.in[2].data, a.out[0].data, &T, &V});
  else
    runLibraryKernel(compiler::rowKernelName(kernel, bf16), T, {a.in[0].data, a.in[1].data, a.out[0].data, &T, &V});
  return true;
}

// The embedding gradient with fp32 gradients and table (the token ids were checked before the run).
bool HostEmulatedDevice::embeddingGrad(const LaunchArgs& a) {
  using compiler::ElementType;
  if (a.in[0].type != ElementType::I32 || a.in[1].type != ElementType::F32 || a.out[0].type != ElementType::F32)
    return false;
  long long T = a.in[0].numel(), d = a.in[1].shape.back(), vocab = a.launch.vocab;
  runLibraryKernel("hrm_embedding_grad_f32", (d + threads_ - 1) / threads_,
                   {a.in[0].data, a.in[1].data, a.out[0].data, &T, &d, &vocab});
  return true;
}

// hrm_rows.cuh's HrmShape, as the kernels take it by value.
struct KernelShape {
  long long dims[8];
  long long toStride[8];
  int rank;
};

// Unbroadcast, the max gradient, the label means and exact match (fp32 values, i32 labels).
bool HostEmulatedDevice::smallKernel(const LaunchArgs& a) {
  using compiler::ElementType;
  using compiler::LaunchKind;
  const LaunchKind kind = a.launch.kind;
  auto is = [](const DeviceTensor& t, ElementType type) { return t.type == type; };
  const int64_t blocks = (a.out[0].numel() + 255) / 256;
  if (kind == LaunchKind::Unbroadcast) {
    const std::vector<int64_t>& from = a.in[0].shape;
    const std::vector<int64_t>& to = a.out[0].shape;
    if (!is(a.in[0], ElementType::F32) || !is(a.out[0], ElementType::F32) || from.size() > 8) return false;
    KernelShape shape{};
    shape.rank = static_cast<int>(from.size());
    const size_t lead = from.size() - to.size();
    for (size_t j = to.size(), stride = 1; j-- > 0;) {  // the output's stride per input dimension, as the CPU
      if (to[j] != 1) shape.toStride[lead + j] = static_cast<long long>(stride);
      stride *= static_cast<size_t>(to[j]);
    }
    for (size_t d = 0; d < from.size(); ++d) shape.dims[d] = from[d];
    long long n = a.out[0].numel();
    runLibraryKernel("hrm_unbroadcast_f32", blocks, {a.in[0].data, a.out[0].data, &shape, &n});
    return true;
  }
  if (kind == LaunchKind::MaxGrad) {
    if (!is(a.in[0], ElementType::F32) || !is(a.in[1], ElementType::F32) || !is(a.out[0], ElementType::F32)) return false;
    const std::vector<int64_t>& s = a.in[0].shape;
    long long outer = 1, inner = 1, dim = s[a.launch.axis];
    for (int64_t i = 0; i < a.launch.axis; ++i) outer *= s[i];
    for (size_t i = a.launch.axis + 1; i < s.size(); ++i) inner *= s[i];
    runLibraryKernel("hrm_max_grad_f32", (outer * inner + 255) / 256, {a.in[0].data, a.in[1].data, a.out[0].data, &outer, &dim, &inner});
    return true;
  }
  if (!is(a.out[0], ElementType::F32)) return false;
  if (kind == LaunchKind::LabelMeanGrad) {
    if (!is(a.in[0], ElementType::I32) || !is(a.in[1], ElementType::F32)) return false;
    long long T = a.in[0].numel();
    runLibraryKernel("hrm_label_mean_grad_f32", 1, {a.in[0].data, a.in[1].data, a.out[0].data, &T});
    return true;
  }
  if (!is(a.in[0], ElementType::F32) || !is(a.in[1], ElementType::I32)) return false;
  long long T = a.in[0].numel();
  if (kind == LaunchKind::LabelMean)
    runLibraryKernel("hrm_label_mean_f32", 1, {a.in[0].data, a.in[1].data, a.out[0].data, &T});
  else
    runLibraryKernel("hrm_exact_match_f32", 1,
                     {a.in[0].data, a.in[1].data, const_cast<int32_t*>(a.seq.sampleOf.data()), a.out[0].data, &T});
  return true;
}

void HostEmulatedDevice::adamAtan2(const AdamAtan2Tensors& t, int64_t n, const AdamAtan2Step& s) {
  long long count = n;
  float decay = s.decay, omb1 = s.oneMinusBeta1, b2 = s.beta2, omb2 = s.oneMinusBeta2, step = s.stepSize,
        bc2 = s.bc2Sqrt, keep = s.emaKeep;
  runLibraryKernel("hrm_adam_atan2_kernel", std::min<int64_t>((n + 255) / 256, 1024),
                   {t.w, const_cast<float*>(t.g), t.m, t.v, s.ema ? t.ema : nullptr, t.wBf16, &count, &decay, &omb1, &b2,
                    &omb2, &step, &bc2, &keep});
}

void HostEmulatedDevice::attention(const LaunchArgs& a) {
  const AttentionShape s = attentionShape(a);
  long long T = a.seq.tokens();
  int heads = s.heads;
  AttentionIntervals iv = attentionIntervals(a.seq, a.launch.mask);
  const int64_t blocks = attentionBlocks(T, heads);
  std::vector<float> lse(T * heads);
  runLibraryKernel(compiler::attentionKernelName("forward", s.hd, s.bf16), blocks,
                     {a.in[0].data, a.in[1].data, a.in[2].data, a.out[0].data, nullptr, lse.data(), iv.lo.data(),
                      iv.hi.data(), &T, &heads});
}

void HostEmulatedDevice::attentionGrad(const LaunchArgs& a) {
  const AttentionShape s = attentionShape(a);
  long long T = a.seq.tokens();
  int heads = s.heads;
  AttentionIntervals iv = attentionIntervals(a.seq, a.launch.mask);
  const int64_t blocks = attentionBlocks(T, heads);
  // The forward again, for its output and log-sum-exp (the launch has neither), then dq (and D), then dk, dv.
  std::vector<float> lse(T * heads), D(T * heads), o32(a.in[0].numel());
  std::vector<char> o(a.in[0].bytes());
  runLibraryKernel(compiler::attentionKernelName("forward", s.hd, s.bf16), blocks,
                     {a.in[0].data, a.in[1].data, a.in[2].data, o.data(), o32.data(), lse.data(), iv.lo.data(),
                      iv.hi.data(), &T, &heads});
  runLibraryKernel(compiler::attentionKernelName("backward_dq", s.hd, s.bf16), blocks,
                     {a.in[0].data, a.in[1].data, a.in[2].data, o32.data(), a.in[3].data, lse.data(), a.out[0].data, D.data(),
                      iv.lo.data(), iv.hi.data(), &T, &heads});
  runLibraryKernel(compiler::attentionKernelName("backward_dkdv", s.hd, s.bf16), blocks,
                     {a.in[0].data, a.in[1].data, a.in[2].data, a.in[3].data, lse.data(), D.data(), a.out[1].data,
                      a.out[2].data, iv.lo.data(), iv.hi.data(), iv.qlo.data(), iv.qhi.data(), &T, &heads});
}

}  // namespace hrmc::runtime::cuda
