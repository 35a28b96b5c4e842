// Data pipeline: tokenizer and sample layout, JSONL validation, token cache, multipack, PrefixLM.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "runtime/data/Packing.h"
#include "runtime/data/Samples.h"
#include "runtime/data/SyntheticTasks.h"

using namespace hrmc::runtime;
namespace fs = std::filesystem;

namespace {

TEST(ByteTokenizer, SampleLayoutOfSection31) {
  ByteTokenizer tok;
  EXPECT_EQ(tok.paddedVocab(), 512);
  EXPECT_EQ(tok.instruction("hi", "synth,cot"),
            (std::vector<int32_t>{tok.boq(), tok.condition("synth"), tok.condition("cot"), 'h', 'i', tok.eoq()}));
  EXPECT_EQ(tok.response("ok"), (std::vector<int32_t>{'o', 'k', tok.eoa()}));
  EXPECT_EQ(tok.decode({tok.boq(), 'a', 0x62, tok.eoa()}), "ab");
  EXPECT_THROW(tok.instruction("x", "loud"), std::invalid_argument);
}

TEST(PrefixLmLayout, WorkedExampleOfSection35) {
  // q = [BOQ, COND, t1, EOQ], a = [r1, r2, EOA]
  TokenizedSamples d;
  d.tokens = {100, 101, 102, 103, 200, 201, 202};
  d.instStart = {0};
  d.instLen = {4};
  d.respStart = {4};
  d.respLen = {3};
  PackedBatch b = buildBatch(d, {0}, 8, true);
  EXPECT_EQ(b.inputs, (std::vector<int32_t>{100, 101, 102, 103, 200, 201, 0, 0}));
  EXPECT_EQ(b.labels, (std::vector<int32_t>{-100, -100, -100, 200, 201, 202, -100, -100}));
  EXPECT_EQ(b.seq.positions, (std::vector<int32_t>{0, 1, 2, 3, 4, 5, 0, 0}));
  EXPECT_EQ(b.seq.prefixLens, (std::vector<int32_t>{4}));
  EXPECT_EQ(b.seq.causalLens, (std::vector<int32_t>{2}));
  EXPECT_EQ(b.seq.totalSeqlen, 6);
  EXPECT_EQ(b.seq.cuSeqlens(), (std::vector<int32_t>{0, 6, 0, 0, 0, 0, 0, 0}));
  // all-token labels (the P(x) ablation): q[1:] ++ a
  PackedBatch all = buildBatch(d, {0}, 6, false);
  EXPECT_EQ(all.labels, (std::vector<int32_t>{101, 102, 103, 200, 201, 202}));
}

TEST(Multipack, HandWorkedSingleRank) {
  // lengths 5 3 4 2 6, capacity 8: windows [5,3] | [4,2] (6 would overflow) | [6]
  EXPECT_EQ(multipackBatches({5, 3, 4, 2, 6}, 8, 1, 0, false),
            (std::vector<std::vector<int64_t>>{{0, 1}, {2, 3}, {4}}));
  // drop_last drops the batch that reaches the end
  EXPECT_EQ(multipackBatches({5, 3, 4, 2, 6}, 8, 1, 0, true), (std::vector<std::vector<int64_t>>{{0, 1}, {2, 3}}));
  // equal lengths: the later index goes first
  EXPECT_EQ(multipackBatches({3, 3}, 6, 1, 0, false), (std::vector<std::vector<int64_t>>{{1, 0}}));
}

TEST(Multipack, HandWorkedTwoRanks) {
  // c = 6, n = 2: window 5,3,4 reaches 12; LPT fits only [5, 3] (4 would make a bin of 7); 5 goes to
  // rank 0, then 3 to the emptier bin (rank 1).
  auto r0 = multipackBatches({5, 3, 4, 2, 6}, 6, 2, 0, false);
  auto r1 = multipackBatches({5, 3, 4, 2, 6}, 6, 2, 1, false);
  ASSERT_FALSE(r0.empty());
  EXPECT_EQ(r0[0], (std::vector<int64_t>{0}));
  EXPECT_EQ(r1[0], (std::vector<int64_t>{1}));
}

TEST(Multipack, EveryBatchFitsAndEverySampleIsUsedOnce) {
  std::vector<int64_t> lengths;
  SplitMix64 rng(3);
  for (int i = 0; i < 500; ++i) lengths.push_back(1 + static_cast<int64_t>(rng.below(60)));
  auto batches = multipackBatches(lengths, 256, 1, 0, false);
  std::vector<int> used(lengths.size(), 0);
  for (const auto& b : batches) {
    int64_t sum = 0;
    for (int64_t i : b) {
      sum += lengths[i];
      ++used[i];
    }
    EXPECT_LE(sum, 256);
  }
  EXPECT_EQ(std::count(used.begin(), used.end(), 1), 500);
}

TEST(EpochOrder, DeterministicPermutationPerSeedAndEpoch) {
  auto a = epochOrder(100, 7, 0), b = epochOrder(100, 7, 0), c = epochOrder(100, 7, 1);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  std::vector<int64_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 100; ++i) EXPECT_EQ(sorted[i], i);
}

fs::path writeTemp(const std::string& name, const std::string& text) {
  fs::path p = fs::temp_directory_path() / name;
  std::ofstream(p) << text;
  return p;
}

TEST(Jsonl, MalformedLinesAreFatalWithFileAndLine) {
  fs::path p = writeTemp("hrmc_bad.jsonl",
                         "{\"instruction\": \"a\", \"response\": \"b\"}\n\n{\"instruction\": 3, \"response\": \"b\"}\n");
  JsonlReport r;
  try {
    readJsonl(p.string(), false, r);
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("hrmc_bad.jsonl:3: \"instruction\" must be a string"), std::string::npos) << e.what();
  }
}

TEST(Jsonl, MalformedLinesAreSkippedAndCountedWhenAsked) {
  fs::path p = writeTemp("hrmc_mixed.jsonl",
                         "{\"instruction\": \"a\", \"response\": \"b\"}\n"
                         "not json\n"
                         "{\"instruction\": \"a\"}\n"
                         "{\"instruction\": \"a\", \"response\": \"\"}\n"
                         "{\"instruction\": \"a\", \"response\": \"b\", \"condition\": \"shouty\"}\n"
                         "{\"instruction\": \"c\", \"response\": \"d\", \"condition\": \"cot\"}\n");
  JsonlReport r;
  auto samples = readJsonl(p.string(), true, r);
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[1].condition, "cot");
  EXPECT_EQ(r.lines, 6u);
  EXPECT_EQ(r.skipped, 4u);
  ASSERT_EQ(r.problems.size(), 4u);
  EXPECT_NE(r.problems[0].find(":2: not valid JSON"), std::string::npos);
  EXPECT_NE(r.problems[1].find(":3: missing \"response\""), std::string::npos);
  EXPECT_NE(r.problems[2].find(":4: \"response\" is empty"), std::string::npos);
  EXPECT_NE(r.problems[3].find(":5: unknown condition \"shouty\""), std::string::npos);
}

TEST(TokenCache, SecondLoadComesFromTheCacheAndIsIdentical) {
  fs::path p = writeTemp("hrmc_cache.jsonl", "{\"instruction\": \"reverse ab\", \"response\": \"ba\"}\n");
  fs::path cache = fs::temp_directory_path() / "hrmc_cache_dir";
  fs::remove_all(cache);
  ByteTokenizer tok;
  JsonlReport r;
  bool fromCache = true;
  TokenizedSamples a = loadTokenized(p.string(), tok, cache.string(), false, r, fromCache);
  EXPECT_FALSE(fromCache);
  TokenizedSamples b = loadTokenized(p.string(), tok, cache.string(), false, r, fromCache);
  EXPECT_TRUE(fromCache);
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_EQ(a.respLen, b.respLen);
  EXPECT_EQ(a.packedLength(0), 1 + 1 + 10 + 1 + 2 + 1 - 1);  // BOQ direct "reverse ab" EOQ | "ba" EOA
}

TEST(SyntheticTasks, DeterministicCorrectAndDisjointHeldOut) {
  TaskSpec spec{"add", 1, 3};
  auto train = generateTask(spec, 200, 1);
  EXPECT_EQ(train.size(), 200u);
  EXPECT_EQ(generateTask(spec, 200, 1)[17].instruction, train[17].instruction);
  for (const TextSample& s : train) {
    const size_t plus = s.instruction.find('+');
    EXPECT_EQ(std::stoll(s.instruction.substr(0, plus)) + std::stoll(s.instruction.substr(plus + 1)), std::stoll(s.response));
  }
  auto heldOut = generateTask(spec, 50, 2, &train);
  for (const TextSample& h : heldOut)
    for (const TextSample& t : train) EXPECT_NE(h.instruction, t.instruction);
  auto rev = generateTask({"reverse", 3, 3}, 5, 9);
  EXPECT_EQ(rev[0].instruction.substr(8), std::string(rev[0].response.rbegin(), rev[0].response.rend()));
  EXPECT_THROW(generateTask({"juggle", 1, 2}, 1, 0), std::invalid_argument);
}

}  // namespace
