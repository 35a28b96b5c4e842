// The trainer: bit-exact resume, run-config validation, checkpoint integrity, generation.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "compiler/HrmModule.h"
#include "dsl/sema/Sema.h"
#include "runtime/checkpoint/Safetensors.h"
#include "runtime/data/SyntheticTasks.h"
#include "runtime/reference/ReferenceBackend.h"
#include "runtime/train/Generator.h"
#include "runtime/train/Trainer.h"

using namespace hrmc;
using namespace hrmc::runtime;
namespace fs = std::filesystem;

namespace {

struct SmallRun {
  std::unique_ptr<dsl::FrontendResult> fe;
  std::unique_ptr<compiler::HrmModule> module;
  TrainConfig cfg;
  ByteTokenizer tok;
  std::vector<TextSample> train, heldOut;

  explicit SmallRun(const std::string& out) {
    dsl::FrontendOptions o;
    o.preset = "tiny";
    o.stdlibDirs = {HRMC_STDLIB_DIR};
    o.overrides = {{"hidden", "32"}, {"heads", "2"}};  // a smaller tiny: fast enough for a unit test
    fe = dsl::runFrontend(std::string(HRMC_MODELS_DIR) + "/hrm_text.hrm", o);
    std::string error;
    module = compiler::HrmModule::fromGraph(*fe->graph, fe->sources, error);
    EXPECT_TRUE(module && module->runCleanupPipeline(error)) << error;
    cfg.output = out;
    cfg.steps = 8;
    cfg.batchTokens = 128;
    cfg.microBatchTokens = 64;  // two micro-batches per step: accumulation is part of what resumes
    cfg.evalInterval = 0;
    cfg.checkpointInterval = 0;
    cfg.lrWarmupSteps = 2;
    fs::remove_all(out);
    train = generateTask({"reverse", 2, 4}, 200, 1);
    heldOut = generateTask({"reverse", 2, 4}, 20, 2, &train);
  }
};

TEST(Trainer, ResumeContinuesBitForBit) {
  std::atomic<bool> stop{false};
  SmallRun a("/tmp/hrmc_resume_a");
  ReferenceBackend ba(*a.module);
  Trainer full(a.cfg, *a.module, ba, a.tok, tokenize(a.train, a.tok), a.heldOut, std::cerr);
  full.initialize();
  ASSERT_TRUE(full.run(stop, "{}"));

  SmallRun b("/tmp/hrmc_resume_b");
  ReferenceBackend bb(*b.module);
  Trainer first(b.cfg, *b.module, bb, b.tok, tokenize(b.train, b.tok), b.heldOut, std::cerr);
  first.initialize();
  ASSERT_FALSE(first.run(stop, "{}", 3));  // "interrupted" after step 3
  TrainingState saved = loadCheckpoint(resolveCheckpoint(b.cfg.output));
  EXPECT_EQ(saved.step, 3);
  Trainer second(b.cfg, *b.module, bb, b.tok, tokenize(b.train, b.tok), b.heldOut, std::cerr);
  second.restore(std::move(saved));
  ASSERT_TRUE(second.run(stop, "{}"));

  std::vector<double> joined = first.losses();
  for (double l : second.losses()) joined.push_back(l);
  ASSERT_EQ(joined.size(), full.losses().size());
  for (size_t i = 0; i < joined.size(); ++i) EXPECT_EQ(joined[i], full.losses()[i]) << "step " << i + 1;  // bitwise
  for (const auto& [name, p] : full.state().params) EXPECT_EQ(p.data, second.state().params.at(name).data) << name;
  EXPECT_LT(full.losses().back(), full.losses().front());  // it learns
}

std::vector<int64_t> loggedTrainSteps(const fs::path& metrics) {
  std::vector<int64_t> steps;
  std::ifstream in(metrics);
  for (std::string line; std::getline(in, line);)
    if (line.find("\"loss\"") != std::string::npos) {
      const size_t at = line.find("\"step\":");
      steps.push_back(std::stoll(line.substr(at + 7)));
    }
  return steps;
}

// After a kill (steps logged past the last checkpoint), --resume truncates metrics.jsonl to the
// checkpoint's step, so every step is logged once; the plot is drawn from the whole log.
TEST(Trainer, ResumeAfterAKillLogsEveryStepOnce) {
  std::atomic<bool> stop{false};
  SmallRun r("/tmp/hrmc_resume_kill");
  ReferenceBackend backend(*r.module);
  Trainer first(r.cfg, *r.module, backend, r.tok, tokenize(r.train, r.tok), r.heldOut, std::cerr);
  first.initialize();
  ASSERT_FALSE(first.run(stop, "{}", 3));
  const fs::path metrics = fs::path(r.cfg.output) / "metrics.jsonl";
  {  // what a run killed with -9 during steps 4-5 leaves behind
    std::ofstream(metrics, std::ios::app) << "{\"step\":4,\"loss\":99.25,\"lr\":0.001,\"bp_steps\":2}\n"
                                          << "{\"step\":5,\"loss\":99.25,\"lr\":0.001,\"bp_steps\":2}\n";
  }
  Trainer second(r.cfg, *r.module, backend, r.tok, tokenize(r.train, r.tok), r.heldOut, std::cerr);
  second.restore(loadCheckpoint(resolveCheckpoint(r.cfg.output)));
  ASSERT_TRUE(second.run(stop, "{}"));
  EXPECT_EQ(loggedTrainSteps(metrics), (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8}));
  std::ifstream in(metrics);
  const std::string log((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(log.find("99.25"), std::string::npos) << "the killed run's lines were kept";

  // A finished run resumed: nothing to train, nothing logged twice.
  Trainer third(r.cfg, *r.module, backend, r.tok, tokenize(r.train, r.tok), r.heldOut, std::cerr);
  third.restore(loadCheckpoint(resolveCheckpoint(r.cfg.output)));
  ASSERT_TRUE(third.run(stop, "{}"));
  EXPECT_TRUE(third.losses().empty());
  EXPECT_EQ(loggedTrainSteps(metrics).size(), 8u);

  // The plot covers all 8 steps: a log-scale loss axis with decade labels, and the K and lr panels.
  std::ifstream svgIn(fs::path(r.cfg.output) / "loss.svg");
  const std::string svg((std::istreambuf_iterator<char>(svgIn)), {});
  EXPECT_NE(svg.find("loss (log scale)"), std::string::npos);
  EXPECT_NE(svg.find("credit window K"), std::string::npos);
  EXPECT_NE(svg.find("learning rate"), std::string::npos);
  EXPECT_NE(svg.find(">8</text>"), std::string::npos) << "the step axis reaches step 8";
}

// A sample longer than a micro-batch: an error naming its file and line and both ways out, or, with
// data.on_long_sample = "skip", left out and counted.
TEST(Trainer, ASampleLongerThanAMicroBatchIsNamedOrSkipped) {
  SmallRun r("/tmp/hrmc_long_sample");
  std::vector<TextSample> samples = r.train;
  samples[5].instruction = std::string(100, 'a');  // packs to more than 64 tokens
  const fs::path jsonl = fs::temp_directory_path() / "hrmc_long.jsonl";
  writeJsonl(jsonl.string(), samples);
  JsonlReport report;
  ReferenceBackend backend(*r.module);
  try {
    Trainer t(r.cfg, *r.module, backend, r.tok, tokenize(readJsonl(jsonl.string(), false, report), r.tok, jsonl.string()),
              r.heldOut, std::cerr);
    ADD_FAILURE() << "a sample longer than micro_batch_tokens was accepted";
  } catch (const DataError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(jsonl.string() + ":6: the sample packs to"), std::string::npos) << what;
    EXPECT_NE(what.find("train.micro_batch_tokens"), std::string::npos) << what;
    EXPECT_NE(what.find("data.on_long_sample = \"skip\""), std::string::npos) << what;
  }
  r.cfg.skipLongSamples = true;
  std::ostringstream out;
  Trainer t(r.cfg, *r.module, backend, r.tok, tokenize(readJsonl(jsonl.string(), false, report), r.tok, jsonl.string()),
            r.heldOut, out);
  EXPECT_NE(out.str().find("left out 1 training samples"), std::string::npos) << out.str();
}

TEST(TrainConfig, UnknownKeysWrongTypesAndRangesAreNamed) {
  const fs::path p = fs::temp_directory_path() / "hrmc_bad.toml";
  auto expectError = [&](const std::string& text, const std::string& want) {
    std::ofstream(p) << text;
    try {
      loadTrainConfig(p.string());
      ADD_FAILURE() << "accepted: " << text;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
    }
  };
  expectError("[train]\nsteps = 10\nlearning_rate = 1e-3\n", "unknown key 'train.learning_rate'");
  expectError("[train]\nlrr = 1e-3\n", "(did you mean 'train.lr'?)");
  expectError("[train]\nsteps = \"ten\"\n", "hrmc_bad.toml:2: train.steps: expected an integer, got a string");
  expectError("[train]\nbeta2 = 1.5\n", "train.beta2: 1.5 is out of range");
  expectError("[train]\nbatch_tokens = 100\nmicro_batch_tokens = 64\n", "must divide train.batch_tokens");
  expectError("[data]\non_bad_line = \"ignore\"\n", "data.on_bad_line: expected \"error\" or \"skip\"");
  expectError("[data]\non_long_sample = \"truncate\"\n", "data.on_long_sample: expected \"error\" or \"skip\"");
  expectError("[train\nsteps = 1\n", "hrmc_bad.toml:1:");
  std::ofstream(p) << "preset = \"tiny\"\n[train]\nsteps = 12\n[model_config]\nhidden = 64\n";
  TrainConfig c = loadTrainConfig(p.string());
  EXPECT_EQ(c.steps, 12);
  ASSERT_EQ(c.modelSet.size(), 1u);
  EXPECT_EQ(c.modelSet[0].second, "64");
  applyOverrides(c, {"train.lr=0.01", "data.task=\"sort\"", "data.task=add"});
  EXPECT_DOUBLE_EQ(c.lr, 0.01);
  EXPECT_EQ(c.task, "add");
  EXPECT_THROW(applyOverrides(c, {"train.nope=1"}), ConfigError);
  // The resolved config round-trips through TOML (it is what checkpoints store).
  std::ofstream(p) << toToml(c);
  TrainConfig back = loadTrainConfig(p.string());
  EXPECT_EQ(back.steps, 12);
  EXPECT_DOUBLE_EQ(back.lr, 0.01);
}

TEST(Checkpoint, CorruptTruncatedAndForeignFilesAreRejected) {
  const fs::path p = fs::temp_directory_path() / "hrmc_ckpt.safetensors";
  TrainingState s;
  s.step = 7;
  s.params["w"] = HostTensor<float>({2, 3}, 0.5f);
  s.optimizer["w"].expAvg = HostTensor<float>({2, 3}, 0.1f);
  s.optimizer["w"].expAvgSq = HostTensor<float>({2, 3}, 0.2f);
  s.optimizer["w"].step = 7;
  s.configToml = "seed = 1\n";
  saveCheckpoint(p.string(), s);
  TrainingState back = loadCheckpoint(p.string());
  EXPECT_EQ(back.step, 7);
  EXPECT_EQ(back.params["w"].data, s.params["w"].data);
  EXPECT_EQ(back.optimizer["w"].step, 7.0f);

  std::string bytes;
  {
    std::ifstream in(p, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::string corrupt = bytes;
  corrupt[corrupt.size() - 3] ^= 0x40;
  std::ofstream(p, std::ios::binary) << corrupt;
  EXPECT_THROW(
      {
        try {
          loadCheckpoint(p.string());
        } catch (const IoError& e) {
          EXPECT_NE(std::string(e.what()).find("checksum mismatch"), std::string::npos);
          throw;
        }
      },
      IoError);
  // A file cut short says so, with the sizes (not "checksum mismatch"), whether the cut is in the
  // tensor data or in the header.
  for (size_t keep : {bytes.size() / 2, bytes.size() - 1, size_t{20}}) {
    std::ofstream(p, std::ios::binary) << bytes.substr(0, keep);
    try {
      loadCheckpoint(p.string());
      ADD_FAILURE() << "a checkpoint cut to " << keep << " bytes loaded";
    } catch (const IoError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("truncated"), std::string::npos) << what;
      EXPECT_NE(what.find("found " + std::to_string(keep)) == std::string::npos ? what.find("has " + std::to_string(keep))
                                                                              : what.find("found " + std::to_string(keep)),
                std::string::npos)
          << what;
      EXPECT_EQ(what.find("checksum"), std::string::npos) << what;
    }
  }
  std::ofstream(p, std::ios::binary) << "this is not a checkpoint";
  EXPECT_THROW(loadCheckpoint(p.string()), IoError);
  SafetensorsFile plain;
  plain.tensors["lm_head.weight"] = HostTensor<float>({2}, 1.0f);
  writeSafetensors(p.string(), plain);
  EXPECT_THROW(loadCheckpoint(p.string()), IoError);  // reference weights, not an hrmc checkpoint
  EXPECT_EQ(readSafetensors(p.string()).tensors.at("lm_head.weight").data, plain.tensors["lm_head.weight"].data);
}

TEST(Generate, GreedyIsDeterministicAndSamplingFollowsTheSeed) {
  SmallRun s("/tmp/hrmc_gen");
  ReferenceBackend backend(*s.module);
  Trainer t(s.cfg, *s.module, backend, s.tok, tokenize(s.train, s.tok), s.heldOut, std::cerr);
  t.initialize();
  std::vector<Prompt> prompts{{"reverse ab"}, {"reverse cde"}};
  GenerateOptions g;
  g.maxTokens = 5;
  auto a = generate(backend, t.state().params, s.tok, prompts, g);
  auto b = generate(backend, t.state().params, s.tok, prompts, g);
  EXPECT_EQ(a, b);
  for (const std::string& x : a) EXPECT_LE(x.size(), 5u);
  g.temperature = 1.0;
  g.seed = 3;
  EXPECT_EQ(generate(backend, t.state().params, s.tok, prompts, g), generate(backend, t.state().params, s.tok, prompts, g));
}

}  // namespace
