// `hrmc bench MODEL --preset P`: train-step tokens/s at K = 2 and K = 5 and forward tokens/s on a packed
// batch of ROWS × ROW_LEN tokens, with model GFLOP/s (HRM-TEXT.md §9, attention included) and the sgemm
// roof and the bf16 GEMM roof (hrmc's bf16 products: oneDNN, or widened to fp32 where oneDNN has none)
// measured in the same run. A train step is what training runs: forward, backward, gradient
// accumulation and the AdamATan2 + EMA update on the backend's resident state (as bench.py's step
// includes the optimizer); --compare-host-state also times the same step with the state on the host
// (gradients copied out, accumulated and updated there by plain loops), the way hrmc trained before. Batches are built like shared/bench/bench.py: instruction lengths
// 16..160, response lengths 8..128. A benchmark program, not a test: it prints figures.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>

#include <nlohmann/json.hpp>

#include "dsl/report/ModelReport.h"
#include "runtime/data/Packing.h"
#include "runtime/exec/LaunchCost.h"
#include "runtime/Backends.h"
#include "runtime/cpu/OneDnnGemm.h"
#include "runtime/reference/ReferenceTraining.h"
#include "tools/hrmc/Commands.h"

namespace hrmc::cli {

using namespace hrmc::runtime;

namespace {

using Clock = std::chrono::steady_clock;

// A roof is the best of at least kRoofReps products over at least kRoofSeconds: long enough to outlast
// the spinning of OpenBLAS's idle threads after start-up or a threaded product (~0.1 s), which takes
// cores from whatever runs then.
constexpr int kRoofReps = 6;
constexpr double kRoofSeconds = 0.3;
double elapsed(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

double sgemmRoof() {
  const auto start = Clock::now();
  const int n = 1024;
  std::vector<float> a(n * n, 1.0f), b(n * n, 0.5f), c(n * n);
  double best = 1e9;
  for (int r = 0; r < kRoofReps || elapsed(start) < kRoofSeconds; ++r) {
    const auto t0 = Clock::now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
    if (r > 0) best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return 2.0 * n * n * n / best / 1e9;
}

// The bf16 product's rate (bf16 inputs, fp32 sums) through hrmc's bf16 GEMM on a 1024³ product.
double bf16Roof(Bf16Gemm& gemm) {
  const auto start = Clock::now();
  const int n = 1024;
  std::vector<uint16_t> a(n * n, toBf16Bits(1.0f)), b(n * n, toBf16Bits(0.5f));
  std::vector<float> c(n * n);
  double best = 1e9;
  for (int r = 0; r < kRoofReps || elapsed(start) < kRoofSeconds; ++r) {
    const auto t0 = Clock::now();
    gemm.matmul(a.data(), b.data(), c.data(), n, n, n);
    if (r > 0) best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return 2.0 * n * n * n / best / 1e9;
}

// Random samples packed into one stream of `slots` tokens (the reference packs rows; FLOPs and work
// per token are the same).
PackedBatch benchBatch(int64_t slots, int64_t rowLen, int64_t vocab, uint64_t seed) {
  SplitMix64 rng(seed);
  TokenizedSamples d;
  int64_t used = 0;
  std::vector<int64_t> chosen;
  for (int tries = 0; tries < 100000; ++tries) {
    const int64_t li = 16 + static_cast<int64_t>(rng.below(145));
    const int64_t lo = std::min<int64_t>(8 + static_cast<int64_t>(rng.below(121)), rowLen + 1 - li);
    if (used + li + lo - 1 > slots) {
      if (slots - used < 24) break;
      continue;
    }
    d.instStart.push_back(static_cast<int64_t>(d.tokens.size()));
    d.instLen.push_back(li);
    for (int64_t i = 0; i < li; ++i) d.tokens.push_back(static_cast<int32_t>(rng.below(static_cast<uint64_t>(vocab))));
    d.respStart.push_back(static_cast<int64_t>(d.tokens.size()));
    d.respLen.push_back(lo);
    for (int64_t i = 0; i < lo; ++i) d.tokens.push_back(static_cast<int32_t>(rng.below(static_cast<uint64_t>(vocab))));
    chosen.push_back(static_cast<int64_t>(chosen.size()));
    used += li + lo - 1;
  }
  return buildBatch(d, chosen, slots, true);
}

struct BenchOptions {
  ModelOptions model;
  int64_t rows = 32, rowLen = 256;
  int warmup = 1, steps = 3;
  bool json = false, compareHostState = false;
  std::string backend = "cpu", precision;
};
void runBench(const BenchOptions& options, int& exitCode);

}  // namespace

void addBenchCommand(CLI::App& app, int& exitCode) {
  auto o = std::make_shared<BenchOptions>();
  CLI::App* cmd = app.add_subcommand("bench", "benchmark train steps (K = 2, 5) and forward on a packed batch");
  o->model.add(*cmd);
  cmd->add_option("--rows", o->rows, "packed rows")->capture_default_str();
  cmd->add_option("--row-len", o->rowLen, "tokens per row")->capture_default_str();
  cmd->add_option("--warmup", o->warmup, "untimed runs per mode")->capture_default_str();
  cmd->add_option("--steps", o->steps, "timed runs per mode (the median is reported); 0: only compile")
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "print one JSON object");
  cmd->add_flag("--compare-host-state", o->compareHostState,
                "also time each train step with the training state on the host (the saving of the resident state)");
  cmd->add_option("--backend", o->backend,
                  "cpu (fused, JIT-compiled), reference, or cuda (needs an NVIDIA GPU; its runtime is not built yet)")
      ->check(CLI::IsMember(backendChoices()))
      ->capture_default_str();
  addPrecisionOption(*cmd, o->precision, /*withAuto=*/true);
  cmd->callback([o, &exitCode] {
    try {
      runBench(*o, exitCode);
    } catch (const std::exception& e) {
      exitCode = reportError(e);
    }
  });
}

namespace {

void runBench(const BenchOptions& options, int& exitCode) {
  const BenchOptions* o = &options;
  auto c = compileToHrm(o->model, exitCode);
  if (!c) return;
  std::unique_ptr<Backend> backendPtr = makeBackend(o->backend, *c->module);  // before the roofs: it may not run here
  const dsl::ModelGraph& g = *c->frontend->graph;
  const int64_t vocab = g.nodes[g.output].type.dims.back();
  const PackedBatch batch = benchBatch(o->rows * o->rowLen, o->rowLen, vocab, 1);
  const double slots = static_cast<double>(batch.inputs.size());
  WeightMap weights;
  SplitMix64 rng(7);
  for (const auto& w : c->module->weights()) {
    if (o->steps == 0) break;  // compile only
    HostTensor<float> t(w.shape);
    for (float& x : t.data) x = static_cast<float>((rng.uniform() - 0.5) * 0.1);
    weights[w.name] = std::move(t);
  }
  // The roofs first. The bf16 roof runs on hrmc's pool with OpenBLAS single-threaded, as in a model
  // run; the sgemm roof is OpenBLAS's own threaded rate. The CPU backend then makes OpenBLAS
  // single-threaded again (it splits the products itself).
  const int blasThreads = openblas_get_num_threads();
  openblas_set_num_threads(1);
  const std::unique_ptr<Bf16Gemm> bf16Gemm = cpu::makeBf16Gemm();
  const double bf16GemmRoof = bf16Roof(*bf16Gemm);
  openblas_set_num_threads(blasThreads);
  const double roof = sgemmRoof();
  Backend& backend = *backendPtr;
  const std::optional<compiler::Precision> precision = applyPrecision(*c->module, o->precision, &backend, exitCode);
  if (!precision) return;
  // A run's model GFLOP/s is compared with the roof of its precision's products.
  const double precisionRoof = *precision == compiler::Precision::BF16 ? bf16GemmRoof : roof;
  // Attention FLOPs of each attention op's forward: 4 · (heads · head_dim) · its attended pairs.
  auto attentionFlops = [&](const dsl::Node& n) {
    return 4.0 * static_cast<double>(n.type.dims[1] * n.type.dims[2]) * runtime::attendedPairs(batch.seq, n.mask);
  };
  nlohmann::json results = nlohmann::json::object();
  std::string error;
  for (const std::string mode : {"train_k2", "train_k5", "forward"}) {
    std::string fn = "forward";
    int K = 0;
    if (mode != "forward") {
      K = mode == "train_k2" ? 2 : 5;
      fn = c->module->trainStep(K, error);
      if (fn.empty()) continue;  // a model whose recurrence is shorter than K
    }
    const auto c0 = Clock::now();
    backend.prepare(fn);
    const double compileSeconds = std::chrono::duration<double>(Clock::now() - c0).count();
    if (o->steps == 0) {
      results[mode] = {{"compile_seconds", compileSeconds}};
      continue;
    }
    // The median over the timed runs of `once`, and of the part of it that `part` measured.
    double part = 0;
    auto median = [&](const std::function<void()>& once, double* partMedian = nullptr) {
      std::vector<double> times, parts;
      for (int i = 0; i < o->warmup + o->steps; ++i) {
        const auto t0 = Clock::now();
        once();
        if (i >= o->warmup) {
          times.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
          parts.push_back(part);
        }
      }
      std::sort(times.begin(), times.end());
      std::sort(parts.begin(), parts.end());
      if (partMedian) *partMedian = parts[parts.size() / 2];
      return times[times.size() / 2];
    };
    auto since = [](Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); };
    const AdamAtan2Config adam;
    const double lr = 1e-4;
    double t = 0, hostStateSeconds = -1, updateSeconds = -1, hostUpdateSeconds = -1;
    if (K == 0) {
      t = median([&] { backend.run(fn, batch, weights); });
    } else {
      const std::vector<std::string> names = c->module->gradientNames(fn);
      WeightMap trainable;
      for (const auto& w : c->module->weights())
        if (w.trainable) trainable[w.name] = weights.at(w.name);
      SingleProcess single;
      // One train step on `state`: the whole step's median, and its update's in *update.
      auto timeSteps = [&](Training& state, double* update) {
        return median(
            [&] {
              state.accumulate(fn, names, batch, 1.0);
              const auto u0 = Clock::now();
              state.step(lr);
              part = since(u0);
            },
            update);
      };
      t = timeSteps(*backend.bindTraining(weights, freshOptimizerState(adam, trainable), adam, single), &updateSeconds);
      if (o->compareHostState) {
        ReferenceTraining host([&](const std::string& f, const PackedBatch& b, const WeightMap& w) { return backend.run(f, b, w); },
                               weights, freshOptimizerState(adam, trainable), adam, single);
        hostStateSeconds = timeSteps(host, &hostUpdateSeconds);
      }
    }
    // Model FLOPs: linear layers (§9) for every slot, attention for the real (query, key) pairs; the
    // backward of an attention in a gradient-carrying step costs 2× its forward.
    const std::vector<bool> grad = K > 0 ? g.stepsWithGrad(K) : std::vector<bool>();
    double attn = 0;
    for (const dsl::Node& n : g.nodes)
      if (n.op == dsl::OpKind::Attention)
        attn += attentionFlops(n) * (K > 0 && (n.step < 0 || grad[n.step]) ? 3.0 : 1.0);
    const double linear = (K > 0 ? dsl::trainFlopsPerToken(g, K) : dsl::forwardFlopsPerToken(g)) * slots;
    const double gflops = (linear + attn) / t / 1e9;
    results[mode] = {{"seconds", t}, {"tokens_per_s", slots / t}, {"model_gflops", gflops}, {"roof_fraction", gflops / precisionRoof},
                     {"compile_seconds", compileSeconds},
                     {"planned_activation_bytes", backend.plannedBytes(fn, static_cast<int64_t>(slots))}};
    if (updateSeconds >= 0) results[mode]["update_seconds"] = updateSeconds;
    if (hostStateSeconds > 0) {
      results[mode]["host_state_seconds"] = hostStateSeconds;
      results[mode]["host_update_seconds"] = hostUpdateSeconds;
    }
  }
  if (o->json) {
    std::cout << nlohmann::json{{"model", g.name}, {"preset", o->model.preset}, {"backend", backend.name()},
                                {"precision", compiler::spell(*precision)},
                                {"tokens", slots}, {"samples", batch.seq.samples()}, {"sgemm_roof_gflops", roof},
                                {"bf16_gemm_roof_gflops", bf16GemmRoof}, {"bf16_gemm", bf16Gemm->name()},
                                {"results", results}}.dump()
              << "\n";
  } else {
    std::printf("%s (%s), %s backend, %s, %.0f tokens (%lld samples), sgemm roof %.1f GFLOP/s, bf16 GEMM roof %.1f GFLOP/s "
                "(%s%s)\n",
                g.name.c_str(), o->model.preset.c_str(), backend.name().c_str(), compiler::spell(*precision), slots,
                static_cast<long long>(batch.seq.samples()), roof, bf16GemmRoof, bf16Gemm->name().c_str(),
                bf16Gemm->native() ? "" : "; not native on this CPU");
    for (const auto& [mode, r] : results.items()) {
      if (!r.contains("seconds")) {
        std::printf("  %-9s compiled in %.2f s\n", mode.c_str(), r["compile_seconds"].get<double>());
        continue;
      }
      std::printf("  %-9s %8.3f s  %9.0f tokens/s  %7.1f GFLOP/s  (%4.1f%% of %s roof)  compiled in %.2f s", mode.c_str(),
                  r["seconds"].get<double>(), r["tokens_per_s"].get<double>(), r["model_gflops"].get<double>(),
                  100 * r["roof_fraction"].get<double>(), *precision == compiler::Precision::BF16 ? "bf16" : "sgemm",
                  r["compile_seconds"].get<double>());
      if (const int64_t bytes = r["planned_activation_bytes"].get<int64_t>(); bytes >= 0)
        std::printf("  activations %.0f MiB", static_cast<double>(bytes) / 1048576.0);
      if (r.contains("update_seconds")) std::printf("  update %.3f s", r["update_seconds"].get<double>());
      if (r.contains("host_state_seconds"))
        std::printf("  (state on the host: %.3f s, %.2fx; update %.3f s)", r["host_state_seconds"].get<double>(),
                    r["host_state_seconds"].get<double>() / r["seconds"].get<double>(),
                    r["host_update_seconds"].get<double>());
      std::printf("\n");
    }
  }
  exitCode = kOk;
}

}  // namespace

}  // namespace hrmc::cli
