#include "runtime/data/SyntheticTasks.h"

#include <algorithm>
#include <stdexcept>
#include <unordered_set>

#include "runtime/data/Packing.h"

namespace hrmc::runtime {

const std::vector<std::string>& taskNames() {
  static const std::vector<std::string> names = {"reverse", "sort", "add", "count"};
  return names;
}

namespace {

std::string randomString(SplitMix64& rng, int len, const std::string& alphabet) {
  std::string s;
  for (int i = 0; i < len; ++i) s += alphabet[rng.below(alphabet.size())];
  return s;
}

TextSample make(const TaskSpec& spec, SplitMix64& rng) {
  const int len = spec.minLen + static_cast<int>(rng.below(static_cast<uint64_t>(spec.maxLen - spec.minLen + 1)));
  TextSample s;
  if (spec.name == "reverse") {
    std::string x = randomString(rng, len, "abcdefgh");
    s.instruction = "reverse " + x;
    s.response = std::string(x.rbegin(), x.rend());
  } else if (spec.name == "sort") {
    std::string x = randomString(rng, len, "0123456789");
    s.instruction = "sort " + x;
    std::sort(x.begin(), x.end());
    s.response = x;
  } else if (spec.name == "add") {
    auto number = [&](int digits) {
      std::string d = randomString(rng, digits, "0123456789");
      d.erase(0, std::min(d.find_first_not_of('0'), d.size() - 1));
      return d;
    };
    const std::string a = number(len), b = number(1 + static_cast<int>(rng.below(static_cast<uint64_t>(len))));
    s.instruction = a + "+" + b;
    s.response = std::to_string(std::stoll(a) + std::stoll(b));
  } else if (spec.name == "count") {
    std::string x = randomString(rng, len, "abc");
    const char c = "abc"[rng.below(3)];
    s.instruction = std::string("count ") + c + " in " + x;
    s.response = std::to_string(std::count(x.begin(), x.end(), c));
  } else {
    throw std::invalid_argument("unknown task '" + spec.name + "' (tasks: reverse, sort, add, count)");
  }
  return s;
}

}  // namespace

std::vector<TextSample> generateTask(const TaskSpec& spec, size_t count, uint64_t seed,
                                     const std::vector<TextSample>* exclude) {
  if (spec.minLen < 1 || spec.maxLen < spec.minLen || spec.maxLen > 64)
    throw std::invalid_argument("task lengths must satisfy 1 <= min_len <= max_len <= 64");
  std::unordered_set<std::string> taken;
  if (exclude)
    for (const TextSample& s : *exclude) taken.insert(s.instruction);
  SplitMix64 rng(seed);
  std::vector<TextSample> out;
  // Small spaces (short strings) may not hold `count` distinct held-out samples: stop trying then.
  for (size_t tries = 0; out.size() < count && tries < count * 50; ++tries) {
    TextSample s = make(spec, rng);
    if (exclude && !taken.insert(s.instruction).second) continue;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace hrmc::runtime
