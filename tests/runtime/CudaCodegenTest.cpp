// The CUDA target without a GPU (issue 13): every generated kernel of every model compiles with NVRTC
// for sm_80 and sm_90 without spills, and the printed CUDA C, compiled for the host and run on the
// header's fibers (runtime/cuda/HostEmulatedDevice.h), gives the CPU backend's results.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <numeric>
#include <iostream>
#include <random>

#include "compiler/HrmModule.h"
#include "compiler/codegen/cuda/CudaBundle.h"
#include "compiler/codegen/cuda/Nvrtc.h"
#include "dsl/sema/Sema.h"
#include "runtime/Backends.h"
#include "runtime/cpu/CpuBackend.h"
#include "compiler/codegen/cuda/DeviceHeader.h"
#include "runtime/cuda/HostEmulatedDevice.h"
#include "runtime/exec/DeviceTraining.h"
#include "runtime/reference/ReferenceTraining.h"
#include "runtime/reference/ReferenceKernels.h"
#include "tests/runtime/AttentionCase.h"
#include "tests/ModelNames.h"
#include "tests/runtime/RandomCase.h"

using namespace hrmc;
using namespace hrmc::runtime;

namespace {

std::unique_ptr<compiler::HrmModule> moduleAt(const std::string& model, const std::string& preset,
                                              compiler::Precision precision, std::unique_ptr<dsl::FrontendResult>& fe) {
  dsl::FrontendOptions o;
  o.preset = preset;
  o.stdlibDirs = {HRMC_STDLIB_DIR};
  fe = dsl::runFrontend(std::string(HRMC_MODELS_DIR) + "/" + model + ".hrm", o);
  EXPECT_TRUE(fe->ok() && fe->graph) << fe->diags.renderToString();
  std::string error;
  auto module = compiler::HrmModule::fromGraph(*fe->graph, fe->sources, error);
  EXPECT_TRUE(module && module->runCleanupPipeline(error)) << error;
  if (precision == compiler::Precision::BF16) {
    EXPECT_TRUE(module->setPrecision(precision, error)) << error;
  }
  return module;
}
std::unique_ptr<compiler::HrmModule> tinyModule(const std::string& model, compiler::Precision precision,
                                                std::unique_ptr<dsl::FrontendResult>& fe) {
  return moduleAt(model, "tiny", precision, fe);
}

// The model's forward and its train step at the smallest credit window.
std::vector<std::string> functions(compiler::HrmModule& module) {
  const auto credit = module.credit();
  const int K = credit.maxSteps > 0 ? credit.minSteps : credit.recurrentSteps;
  std::string error;
  const std::string train = module.trainStep(K, error);
  EXPECT_FALSE(train.empty()) << error;
  return {"forward", train};
}

// Each kernel of a bundle with ptxas's report of it: every kernel must have one.
template <typename F>
void forEachKernelReport(const compiler::CudaBundle& bundle, F check) {
  const auto reports = compiler::parsePtxasReport(bundle.ptxasLog);
  ASSERT_EQ(reports.size(), bundle.kernels.size()) << bundle.ptxasLog;
  for (const compiler::CudaKernelShape& k : bundle.kernels) {
    auto r = std::find_if(reports.begin(), reports.end(), [&](const auto& p) { return p.kernel == k.name; });
    ASSERT_NE(r, reports.end()) << k.name;
    check(k, *r);
  }
}

struct ModelCase {
  const char* model;
  compiler::Precision precision;
};
std::string caseName(const ::testing::TestParamInfo<ModelCase>& p) {
  return std::string(p.param.model) + "_" + compiler::spell(p.param.precision);
}
std::vector<ModelCase> allCases() {
  std::vector<ModelCase> cases;
  for (const char* m : hrmc::test::kModelNames)
    for (compiler::Precision p : {compiler::Precision::F32, compiler::Precision::BF16}) cases.push_back({m, p});
  return cases;
}

class CudaNvrtc : public ::testing::TestWithParam<ModelCase> {};

// T0: NVRTC compiles every kernel of the forward and the train step for sm_80 and sm_90; ptxas
// reports each of them, with no spills and the shared memory the printer planned (plus nothing).
TEST_P(CudaNvrtc, EveryKernelCompilesForSm80AndSm90WithoutSpills) {
  std::string error;
  if (!compiler::Nvrtc::get(error)) GTEST_SKIP() << error;
  std::unique_ptr<dsl::FrontendResult> fe;
  auto module = tinyModule(GetParam().model, GetParam().precision, fe);
  ASSERT_TRUE(module);
  for (const std::string& fn : functions(*module))
    for (const char* arch : {"sm_80", "sm_90"}) {
      const compiler::CompiledProgram* compiled = module->compile(fn, std::string("cuda:") + arch, error);
      ASSERT_TRUE(compiled) << fn << " " << arch << ": " << error;
      compiler::CudaBundle bundle;
      ASSERT_TRUE(bundle.unpack(compiled->binary));
      EXPECT_EQ(bundle.arch, arch);
      EXPECT_FALSE(bundle.cubin.empty());
      EXPECT_NE(bundle.ptx.find(".target sm_" + std::string(arch + 3)), std::string::npos);
      forEachKernelReport(bundle, [&](const compiler::CudaKernelShape& k, const compiler::PtxasReport& r) {
        EXPECT_EQ(r.arch, arch);
        EXPECT_EQ(r.spillStores + r.spillLoads, 0) << fn << " " << k.name << " spills on " << arch;
        EXPECT_GT(r.registers, 0) << k.name;
        EXPECT_LE(r.registers, 65536 / k.threads) << k.name << ": the launch's block would not fit an SM";
        EXPECT_LE(r.sharedBytes, k.sharedBytes) << k.name << ": more shared memory than the printer planned";
      });
    }
}
INSTANTIATE_TEST_SUITE_P(Models, CudaNvrtc, ::testing::ValuesIn(allCases()), caseName);

// T0 at the sizes HRM-Text trains at: small, B and XL, the forward and the train step at K = 5, fp32
// and bf16, for sm_80 and sm_90: no kernel spills, and each fits its launch's block on an SM.
TEST(CudaNvrtcLarge, HrmTextSmallBAndXlCompileWithoutSpills) {
  std::string error;
  if (!compiler::Nvrtc::get(error)) GTEST_SKIP() << error;
  for (const char* preset : {"small", "B", "XL"})
    for (compiler::Precision precision : {compiler::Precision::F32, compiler::Precision::BF16}) {
      std::unique_ptr<dsl::FrontendResult> fe;
      auto module = moduleAt("hrm_text", preset, precision, fe);
      ASSERT_TRUE(module);
      const std::string train = module->trainStep(5, error);
      ASSERT_FALSE(train.empty()) << error;
      for (const std::string& fn : {std::string("forward"), train})
        for (const char* arch : {"sm_80", "sm_90"}) {
          const compiler::CompiledProgram* compiled = module->compile(fn, std::string("cuda:") + arch, error);
          ASSERT_TRUE(compiled) << preset << " " << fn << " " << arch << ": " << error;
          compiler::CudaBundle bundle;
          ASSERT_TRUE(bundle.unpack(compiled->binary));
          forEachKernelReport(bundle, [&](const compiler::CudaKernelShape& k, const compiler::PtxasReport& r) {
            EXPECT_EQ(r.spillStores + r.spillLoads, 0) << preset << " " << fn << " " << k.name << " on " << arch;
            EXPECT_LE(r.registers, 65536 / k.threads) << k.name;
          });
        }
    }
}

class CudaHostEmulation : public ::testing::TestWithParam<ModelCase> {};

// T1: the generated CUDA C itself, run on the host for a packed batch with padding, against the CPU
// backend on the same batch and weights (the library launches are the CPU's in both). Tolerances, of
// each result's largest magnitude: fp32 1e-4 (reductions sum in another order; exp and rsqrt are
// libm's instead of the CPU's polynomials); bf16 2⁻⁵ (a value that lands the other side of a bf16
// rounding boundary moves by 2⁻⁸ relative, and the recurrence carries it on).
TEST_P(CudaHostEmulation, MatchesTheCpuBackend) {
  std::unique_ptr<dsl::FrontendResult> fe;
  auto module = tinyModule(GetParam().model, GetParam().precision, fe);
  ASSERT_TRUE(module);
  std::mt19937 rng(5);
  const WeightMap weights = hrmc::testing::randomWeights(*module, rng, 0.0f);
  PackedBatch batch = hrmc::testing::randomPackedBatch(rng, 61, 512);
  hrmc::testing::labelResponses(batch);
  const double tolerance = GetParam().precision == compiler::Precision::F32 ? 1e-4 : 1.0 / 32;
  cuda::HostEmulatedDevice device(/*threadsPerBlock=*/7);  // not a multiple of anything the printer assumes
  for (const std::string& fn : functions(*module)) {
    std::string error;
    const compiler::CompiledProgram* compiled = module->compile(fn, "cuda", error);
    ASSERT_TRUE(compiled) << error;
    ProgramRunner runner(*compiled, device);
    runner.run(batch, viewsOf(weights));
    const std::vector<HostTensor<float>> got = runner.hostResults();
    const auto want = cpu::CpuBackend(compilerFor(*module, "cpu")).run(fn, batch, weights);
    ASSERT_EQ(got.size(), want.size());
    double worst = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].shape, want[i].shape);
      const double e = hrmc::testing::relativeToMax(got[i], want[i]);
      worst = std::max(worst, e);
      EXPECT_LE(e, tolerance) << GetParam().model << " " << fn << " result " << i;
    }
    std::cout << GetParam().model << " " << fn << " (" << compiler::spell(GetParam().precision)
              << "): CUDA C on the host vs the CPU backend, worst " << worst << " of the largest magnitude\n";
  }
}
INSTANTIATE_TEST_SUITE_P(Models, CudaHostEmulation, ::testing::ValuesIn(allCases()), caseName);

// The hand-written kernels (stdlib/cuda/hrm_library.cu) compile for sm_80 and sm_90: every instance
// reported by ptxas, none spilling, each within the 48 KiB of static shared memory.
TEST(CudaLibrary, EveryKernelCompilesForSm80AndSm90WithoutSpills) {
  std::string error;
  const compiler::Nvrtc* nvrtc = compiler::Nvrtc::get(error);
  if (!nvrtc) GTEST_SKIP() << error;
  for (const char* arch : {"sm_80", "sm_90"}) {
    compiler::NvrtcResult out;
    ASSERT_TRUE(nvrtc->compile(compiler::cudaLibrarySource(), "hrm_library.cu", compiler::cudaHeaders(), arch,
                               {}, out, error))
        << error;
    const auto reports = compiler::parsePtxasReport(out.log);
    // attention: 3 kernels × 3 head dims × 2 dtypes; 5 row kernels × 2 dtypes; 6 fp32 kernels; the optimizer
    EXPECT_EQ(reports.size(), 35u) << out.log;
    for (const auto& r : reports) {
      EXPECT_EQ(r.spillStores + r.spillLoads, 0) << r.kernel << " on " << arch;
      EXPECT_LE(r.sharedBytes, 48 * 1024) << r.kernel;
      EXPECT_LE(r.registers, 65536 / 128) << r.kernel;
    }
  }
}

struct AttentionCaseParam {
  compiler::MaskKind mask;
  int heads, hd;
};

// The attention kernels on the host emulation against the fp64 reference: packed samples of lengths
// that do and do not fill 16-row tiles, with padding, each mask and head dimension. fp32: within 2e-6
// of 1 + |want| per element; bf16: the CPU kernels' bound (AttentionCase.h), atol 2⁻⁷ forward and
// 2⁻⁵ for the gradients.
class CudaAttention : public ::testing::TestWithParam<AttentionCaseParam> {};

TEST_P(CudaAttention, ForwardAndBackwardMatchTheReference) {
  const auto [mask, heads, hd] = GetParam();
  const PackedSeq seq = packedSamples({1, 2, 15, 16, 17, 40});
  const int64_t T = seq.tokens();
  const size_t n = static_cast<size_t>(T * heads * hd);
  std::mt19937 rng(13);
  std::vector<float> q = randomRows(rng, n, 1.5f), k = randomRows(rng, n, 1.5f), v = randomRows(rng, n, 1.0f),
                     g = randomRows(rng, n, 1.0f);
  for (auto* x : {&q, &k, &v, &g})
    for (float& e : *x) e = roundToBf16(e);  // exact in both dtypes
  std::vector<double> wo(n), wdq(n), wdk(n), wdv(n);
  {
    const auto qd = toDouble(q), kd = toDouble(k), vd = toDouble(v), gd = toDouble(g);
    ref::attention(qd.data(), kd.data(), vd.data(), wo.data(), seq, heads, hd, mask);
    ref::attentionGrad(qd.data(), kd.data(), vd.data(), gd.data(), wdq.data(), wdk.data(), wdv.data(), seq, heads, hd, mask);
  }
  cuda::HostEmulatedDevice device(/*threadsPerBlock=*/12);
  compiler::Launch forward, backward;
  forward.kind = compiler::LaunchKind::Attention;
  backward.kind = compiler::LaunchKind::AttentionGrad;
  forward.mask = backward.mask = mask;
  const std::vector<int64_t> shape = {T, heads, hd};
  for (compiler::ElementType type : {compiler::ElementType::F32, compiler::ElementType::BF16}) {
    const bool bf16 = type == compiler::ElementType::BF16;
    const size_t bytes = n * (bf16 ? 2 : 4);
    auto tensor = [&](std::vector<char>& storage, const std::vector<float>* values) {
      storage.assign(bytes, 0x7f);  // NaN-like bytes until written
      if (values && bf16) roundToBf16Bits(values->data(), reinterpret_cast<uint16_t*>(storage.data()), n);
      if (values && !bf16) std::memcpy(storage.data(), values->data(), bytes);
      return DeviceTensor{storage.data(), shape, type};
    };
    std::vector<char> sq, sk, sv, sg, so, sdq, sdk, sdv;
    const DeviceTensor tq = tensor(sq, &q), tk = tensor(sk, &k), tv = tensor(sv, &v), tg = tensor(sg, &g),
                       to = tensor(so, nullptr), tdq = tensor(sdq, nullptr), tdk = tensor(sdk, nullptr),
                       tdv = tensor(sdv, nullptr);
    device.launchAttention(LaunchArgs{forward, 0, 0, {tq, tk, tv}, {to}, seq});
    device.launchAttentionGrad(LaunchArgs{backward, 1, 0, {tq, tk, tv, tg}, {tdq, tdk, tdv}, seq});
    auto asFloats = [&](const std::vector<char>& s) {
      std::vector<float> f(n);
      if (bf16)
        for (size_t i = 0; i < n; ++i) f[i] = fromBf16Bits(reinterpret_cast<const uint16_t*>(s.data())[i]);
      else
        std::memcpy(f.data(), s.data(), bytes);
      return f;
    };
    auto asBits = [&](const std::vector<char>& s) {
      const auto* b = reinterpret_cast<const uint16_t*>(s.data());
      return std::vector<uint16_t>(b, b + n);
    };
    std::cout << spell(mask) << " hd " << hd << (bf16 ? " bf16" : " fp32") << ": o, dq, dk, dv "
              << (bf16 ? "excess over the bound " : "worst error ");
    for (auto* r : {&so, &sdq, &sdk, &sdv}) {
      const std::vector<double>& want = r == &so ? wo : r == &sdq ? wdq : r == &sdk ? wdk : wdv;
      std::cout << (bf16 ? worstExcess(asBits(*r), want, r == &so ? 0x1p-7 : 0x1p-5) : worstError(asFloats(*r), want)) << " ";
    }
    std::cout << "\n";
    if (bf16) {
      EXPECT_LT(worstExcess(asBits(so), wo, 0x1p-7), 0) << "o";
      EXPECT_LT(worstExcess(asBits(sdq), wdq, 0x1p-5), 0) << "dq";
      EXPECT_LT(worstExcess(asBits(sdk), wdk, 0x1p-5), 0) << "dk";
      EXPECT_LT(worstExcess(asBits(sdv), wdv, 0x1p-5), 0) << "dv";
    } else {
      EXPECT_LT(worstError(asFloats(so), wo), 2e-6) << "o";
      EXPECT_LT(worstError(asFloats(sdq), wdq), 2e-6) << "dq";
      EXPECT_LT(worstError(asFloats(sdk), wdk), 2e-6) << "dk";
      EXPECT_LT(worstError(asFloats(sdv), wdv), 2e-6) << "dv";
    }
  }
}
INSTANTIATE_TEST_SUITE_P(Shapes, CudaAttention,
                         ::testing::Values(AttentionCaseParam{compiler::MaskKind::PrefixLM, 2, 32},
                                           AttentionCaseParam{compiler::MaskKind::Causal, 1, 64},
                                           AttentionCaseParam{compiler::MaskKind::Full, 2, 32},
                                           AttentionCaseParam{compiler::MaskKind::PrefixLM, 1, 128}));

// Device-resident training with hrmc's CUDA code on the host: the train step's kernels and the
// AdamATan2 + EMA kernel (writing the bf16 copies in bf16), three steps against the CPU backend's
// training. Weights are not compared element by element: AdamATan2's first steps move a weight by
// about ±lr whatever the gradient's size, so a gradient within rounding of 0 may take either sign. The
// losses agree within 1e-5 (fp32) and 2⁻⁷ (bf16) relative; the optimizer kernel alone is compared with
// the reference loop below.
TEST_P(CudaHostEmulation, TrainingStepsMatchTheCpuBackend) {
  if (std::string(GetParam().model) != "hrm_text") GTEST_SKIP() << "one model is enough for the optimizer";
  std::unique_ptr<dsl::FrontendResult> fe;
  auto module = tinyModule("hrm_text", GetParam().precision, fe);
  ASSERT_TRUE(module);
  std::mt19937 rng(9);
  const WeightMap weights = hrmc::testing::randomWeights(*module, rng, 0.0f);
  PackedBatch batch = hrmc::testing::randomPackedBatch(rng, 61, 512);
  hrmc::testing::labelResponses(batch);
  std::string error;
  const std::string fn = module->trainStep(2, error);
  ASSERT_FALSE(fn.empty()) << error;
  const std::vector<std::string> names = module->gradientNames(fn);
  const AdamAtan2Config config;
  WeightMap trainable;
  for (const auto& w : module->weights())
    if (w.trainable) trainable[w.name] = weights.at(w.name);
  SingleProcess single;
  cpu::CpuBackend cpuBackend(compilerFor(*module, "cpu"));
  std::unique_ptr<Training> want = cpuBackend.bindTraining(weights, freshOptimizerState(config, trainable), config, single);
  cuda::HostEmulatedDevice device(8);
  std::map<std::string, std::unique_ptr<ProgramRunner>> runners;
  DeviceTraining got(
      device,
      [&](const std::string& f) -> ProgramRunner& {
        auto& r = runners[f];
        if (!r) {
          std::string e;
          const compiler::CompiledProgram* c = module->compile(f, "cuda", e);
          if (!c) throw ExecError(e);
          r = std::make_unique<ProgramRunner>(*c, device);
        }
        return *r;
      },
      weights, freshOptimizerState(config, trainable), config, single);
  const double tolerance = GetParam().precision == compiler::Precision::F32 ? 1e-5 : 1.0 / 128;
  double first = 0, worst = 0;
  for (int step = 0; step < 3; ++step) {
    const StepScalars a = want->accumulate(fn, names, batch, 1.0), b = got.accumulate(fn, names, batch, 1.0);
    worst = std::max(worst, std::fabs(b.loss - a.loss) / std::fabs(a.loss));
    EXPECT_NEAR(b.loss, a.loss, tolerance * std::fabs(a.loss)) << "step " << step;
    if (step == 0) first = a.loss;
    else EXPECT_LT(b.loss, first) << "step " << step << ": the updates are real and go downhill";
    want->step(1e-3);
    got.step(1e-3);
  }
  std::cout << "training on the CUDA code (" << compiler::spell(GetParam().precision) << "): losses of 3 steps within "
            << worst << " of the CPU backend's\n";
}

// The AdamATan2 + EMA kernel against the reference loop on the same arrays (zero gradients included),
// and the bf16 copy it writes equal to its weights rounded.
TEST(CudaOptimizer, MatchesTheReferenceLoopAndWritesTheBf16Copy) {
  const int64_t n = 1000;
  std::mt19937 rng(21);
  std::vector<float> w = randomRows(rng, n, 0.5f), g = randomRows(rng, n, 1e-3f), m = randomRows(rng, n, 1e-4f),
                     v = randomRows(rng, n, 1e-4f), ema = randomRows(rng, n, 0.5f);
  for (float& x : v) x = x * x;
  for (int64_t i = 0; i < n; i += 10) g[i] = 0.0f;
  std::vector<float> w2 = w, m2 = m, v2 = v, ema2 = ema;
  std::vector<uint16_t> copy(n, 0x7fc0);
  const AdamAtan2Config config;
  const AdamAtan2Step s = adamAtan2Step(config, 3.0f, 2e-3);
  referenceAdamAtan2({w.data(), g.data(), m.data(), v.data(), ema.data()}, n, s);
  cuda::HostEmulatedDevice device(16);
  device.adamAtan2({w2.data(), g.data(), m2.data(), v2.data(), ema2.data(), copy.data()}, n, s);
  std::vector<uint16_t> rounded(n);
  roundToBf16Bits(w2.data(), rounded.data(), n);
  double worst = 0;
  for (int64_t i = 0; i < n; ++i)
    for (auto [a, b] : {std::pair{w2[i], w[i]}, {m2[i], m[i]}, {v2[i], v[i]}, {ema2[i], ema[i]}})
      worst = std::max(worst, std::fabs(double(a) - b) / (1e-6 + std::fabs(b)));
  EXPECT_LT(worst, 1e-6);
  EXPECT_EQ(copy, rounded);
}

// unbroadcast and max_grad (no model's tiny programs use them) against the CPU device's kernels on the
// same operands: equal bit for bit (each output element adds its inputs in the CPU's order).
TEST(CudaLibrary, UnbroadcastAndMaxGradGiveTheCpuKernelsResults) {
  std::mt19937 rng(4);
  cpu::CpuDevice cpuDevice;
  cuda::HostEmulatedDevice device(5);
  const PackedSeq seq = packedSamples({3});
  auto run = [&](Device& d, const compiler::Launch& l, std::vector<std::vector<float>>& in,
                 const std::vector<std::vector<int64_t>>& inShapes, const std::vector<int64_t>& outShape) {
    std::vector<float> out(static_cast<size_t>(std::accumulate(outShape.begin(), outShape.end(), int64_t{1},
                                                               std::multiplies<>())),
                           -1.0f);
    std::vector<DeviceTensor> ins;
    for (size_t i = 0; i < in.size(); ++i) ins.push_back({reinterpret_cast<char*>(in[i].data()), inShapes[i]});
    LaunchArgs a{l, 0, 0, ins, {DeviceTensor{reinterpret_cast<char*>(out.data()), outShape}}, seq};
    if (l.kind == compiler::LaunchKind::Unbroadcast) d.launchUnbroadcast(a);
    else d.launchMaxGrad(a);
    return out;
  };
  compiler::Launch unbroadcast, maxGrad;
  unbroadcast.kind = compiler::LaunchKind::Unbroadcast;
  maxGrad.kind = compiler::LaunchKind::MaxGrad;
  maxGrad.axis = 1;
  std::vector<std::vector<float>> x = {randomRows(rng, 5 * 3 * 4, 1.0f)};
  EXPECT_EQ(run(device, unbroadcast, x, {{5, 3, 4}}, {3, 1}), run(cpuDevice, unbroadcast, x, {{5, 3, 4}}, {3, 1}));
  EXPECT_EQ(run(device, unbroadcast, x, {{5, 3, 4}}, {4}), run(cpuDevice, unbroadcast, x, {{5, 3, 4}}, {4}));
  std::vector<std::vector<float>> xg = {randomRows(rng, 4 * 6 * 3, 1.0f), randomRows(rng, 4 * 3, 1.0f)};
  EXPECT_EQ(run(device, maxGrad, xg, {{4, 6, 3}, {4, 3}}, {4, 6, 3}), run(cpuDevice, maxGrad, xg, {{4, 6, 3}, {4, 3}}, {4, 6, 3}));
}

TEST(CudaTarget, AnArchitectureNvrtcDoesNotKnowIsAnErrorNamingIt) {
  std::string error;
  if (!compiler::Nvrtc::get(error)) GTEST_SKIP() << error;
  std::unique_ptr<dsl::FrontendResult> fe;
  auto module = tinyModule("transformer", compiler::Precision::F32, fe);
  ASSERT_TRUE(module);
  EXPECT_FALSE(module->compile("forward", "cuda:sm_7", error));
  EXPECT_NE(error.find("sm_7"), std::string::npos) << error;
}

TEST(CudaTarget, PtxasReportParsesEveryKernel) {
  const std::string log =
      "ptxas info    : 0 bytes gmem\n"
      "ptxas info    : Compiling entry function 'fused_3' for 'sm_90'\n"
      "ptxas info    : Function properties for fused_3\n"
      "    8 bytes stack frame, 4 bytes spill stores, 12 bytes spill loads\n"
      "ptxas info    : Used 40 registers, used 1 barriers, 1040 bytes smem, 400 bytes cmem[0]\n"
      "ptxas info    : Compiling entry function 'fused_4' for 'sm_90'\n"
      "ptxas info    : Function properties for fused_4\n"
      "    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads\n"
      "ptxas info    : Used 12 registers, 380 bytes cmem[0]\n";
  const auto r = compiler::parsePtxasReport(log);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].kernel, "fused_3");
  EXPECT_EQ(r[0].registers, 40);
  EXPECT_EQ(r[0].barriers, 1);
  EXPECT_EQ(r[0].sharedBytes, 1040);
  EXPECT_EQ(r[0].stackBytes, 8);
  EXPECT_EQ(r[0].spillStores, 4);
  EXPECT_EQ(r[0].spillLoads, 12);
  EXPECT_EQ(r[1].kernel, "fused_4");
  EXPECT_EQ(r[1].registers, 12);
  EXPECT_EQ(r[1].sharedBytes, 0);
}

}  // namespace
