#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include <toml++/toml.h>

#include "compiler/precision/Precision.h"
#include "dsl/diag/Diagnostics.h"
#include "runtime/io/ArrayDir.h"
#include "runtime/train/TrainConfig.h"

namespace hrmc::runtime {

namespace {

// One settable key: how to read it from a TOML node and how to write it back.
struct Key {
  std::function<void(TrainConfig&, const toml::node&, const std::string&)> set;
  std::function<std::string(const TrainConfig&)> show;
};

template <typename T>
T need(const toml::node& n, const std::string& path, const char* what) {
  if constexpr (std::is_same_v<T, double>) {
    if (auto v = n.value<double>()) return *v;
  } else if constexpr (std::is_same_v<T, int64_t>) {
    if (n.is_integer()) return *n.value<int64_t>();
  } else if constexpr (std::is_same_v<T, bool>) {
    if (n.is_boolean()) return *n.value<bool>();
  } else {
    if (n.is_string()) return *n.value<std::string>();
  }
  std::ostringstream got;
  got << n.type();
  throw ConfigError(path + ": expected " + what + ", got a " + got.str());
}

void range(double v, double lo, double hi, const std::string& path) {
  if (!(v >= lo && v <= hi)) {
    std::ostringstream ss;
    ss << path << ": " << v << " is out of range [" << lo << ", " << hi << "]";
    throw ConfigError(ss.str());
  }
}

std::string quote(const std::string& s) { return "\"" + s + "\""; }
std::string num(double v) {
  std::ostringstream ss;
  ss << v;
  return ss.str();
}

#define INT_KEY(PATH, FIELD, LO, HI)                                                                \
  {PATH, {[](TrainConfig& c, const toml::node& n, const std::string& p) {                           \
            c.FIELD = need<int64_t>(n, p, "an integer");                                            \
            range(static_cast<double>(c.FIELD), LO, HI, p);                                         \
          },                                                                                        \
          [](const TrainConfig& c) { return std::to_string(c.FIELD); }}}
#define FLOAT_KEY(PATH, FIELD, LO, HI)                                                              \
  {PATH, {[](TrainConfig& c, const toml::node& n, const std::string& p) {                           \
            c.FIELD = need<double>(n, p, "a number");                                               \
            range(c.FIELD, LO, HI, p);                                                              \
          },                                                                                        \
          [](const TrainConfig& c) { return num(c.FIELD); }}}
#define STRING_KEY(PATH, FIELD)                                                                     \
  {PATH, {[](TrainConfig& c, const toml::node& n, const std::string& p) { c.FIELD = need<std::string>(n, p, "a string"); }, \
          [](const TrainConfig& c) { return quote(c.FIELD); }}}
#define BOOL_KEY(PATH, FIELD)                                                                       \
  {PATH, {[](TrainConfig& c, const toml::node& n, const std::string& p) { c.FIELD = need<bool>(n, p, "true or false"); }, \
          [](const TrainConfig& c) { return std::string(c.FIELD ? "true" : "false"); }}}

// "error" or "skip": what to do with a bad input; FIELD is true for "skip".
#define ERROR_OR_SKIP_KEY(PATH, FIELD)                                                                            \
  {PATH,                                                                                                          \
   {[](TrainConfig& c, const toml::node& n, const std::string& p) {                                              \
      const std::string v = need<std::string>(n, p, "\"error\" or \"skip\"");                                   \
      if (v != "error" && v != "skip") throw ConfigError(p + ": expected \"error\" or \"skip\", got " + quote(v)); \
      c.FIELD = v == "skip";                                                                                      \
    },                                                                                                            \
    [](const TrainConfig& c) { return quote(c.FIELD ? "skip" : "error"); }}}

const std::map<std::string, Key>& keys() {
  static const std::map<std::string, Key> k = {
      STRING_KEY("model", model),
      STRING_KEY("preset", preset),
      STRING_KEY("output", output),
      INT_KEY("seed", seed, 0, 1e15),
      STRING_KEY("data.task", task),
      STRING_KEY("data.train", trainFile),
      STRING_KEY("data.eval", evalFile),
      INT_KEY("data.train_samples", trainSamples, 1, 1e9),
      INT_KEY("data.eval_samples", evalSamples, 0, 1e9),
      INT_KEY("data.min_len", taskMinLen, 1, 64),
      INT_KEY("data.max_len", taskMaxLen, 1, 64),
      BOOL_KEY("data.target_only", targetOnly),
      ERROR_OR_SKIP_KEY("data.on_bad_line", skipBadLines),
      ERROR_OR_SKIP_KEY("data.on_long_sample", skipLongSamples),
      INT_KEY("train.steps", steps, 0, 1e9),
      INT_KEY("train.epochs", epochs, 0, 1e6),
      INT_KEY("train.batch_tokens", batchTokens, 16, 1e8),
      INT_KEY("train.micro_batch_tokens", microBatchTokens, 16, 1e8),
      INT_KEY("train.data_shards", dataShards, 0, 65536),
      FLOAT_KEY("train.lr", lr, 0, 10),
      FLOAT_KEY("train.lr_min_ratio", lrMinRatio, 0, 1),
      INT_KEY("train.lr_warmup_steps", lrWarmupSteps, 0, 1e9),
      FLOAT_KEY("train.weight_decay", weightDecay, 0, 10),
      FLOAT_KEY("train.beta1", beta1, 0, 0.999999),
      FLOAT_KEY("train.beta2", beta2, 0, 0.999999),
      FLOAT_KEY("train.ema", ema, 0, 0.999999),
      INT_KEY("train.bp_min_steps", bpMinSteps, 0, 1000),
      INT_KEY("train.bp_max_steps", bpMaxSteps, 0, 1000),
      FLOAT_KEY("train.bp_warmup_ratio", bpWarmupRatio, -1, 1),
      INT_KEY("train.log_interval", logInterval, 1, 1e9),
      INT_KEY("train.eval_interval", evalInterval, 0, 1e9),
      INT_KEY("train.checkpoint_interval", checkpointInterval, 0, 1e9),
      INT_KEY("train.generate_examples", generateExamples, 0, 1000),
      STRING_KEY("train.backend", backend),
      STRING_KEY("train.precision", precision),
  };
  return k;
}

void unknownKey(const std::string& path, const std::string& file) {
  std::vector<std::string> names;
  for (const auto& [k, _] : keys()) names.push_back(k);
  if (path.rfind("model_config.", 0) == 0) return;
  throw ConfigError((file.empty() ? "" : file + ": ") + "unknown key '" + path + "'" + dsl::didYouMean(path, names) +
                    "\nhint: keys are model, preset, output, seed, [data] task/train/eval/..., [train] steps/lr/..., "
                    "[model_config] <model config key> = value");
}

void check(const TrainConfig& c) {
  if (c.microBatchTokens > c.batchTokens || c.batchTokens % c.microBatchTokens != 0)
    throw ConfigError("train.micro_batch_tokens (" + std::to_string(c.microBatchTokens) +
                      ") must divide train.batch_tokens (" + std::to_string(c.batchTokens) + ")");
  if (c.steps == 0 && c.epochs == 0) throw ConfigError("train.steps and train.epochs are both 0: set one of them");
  if (c.taskMinLen > c.taskMaxLen) throw ConfigError("data.min_len is larger than data.max_len");
  if (c.backend != "cpu" && c.backend != "reference")
    throw ConfigError("train.backend: \"" + c.backend + "\" is not a backend; use \"cpu\" (default) or \"reference\"");
  if (c.precision != "auto" && !compiler::parsePrecision(c.precision))
    throw ConfigError("train.precision: \"" + c.precision + "\" is not a precision; use \"auto\" (default), \"fp32\" or \"bf16\"");
}

}  // namespace

namespace {
TrainConfig fromToml(const std::string& text, const std::string& path, TrainConfig c);
}  // namespace

TrainConfig loadTrainConfig(const std::string& path, TrainConfig base) {
  std::ifstream in(path);
  if (!std::filesystem::is_regular_file(path) || !in) throw IoError(path + ": cannot open the run configuration");
  std::stringstream text;
  text << in.rdbuf();
  return fromToml(text.str(), path, std::move(base));
}

TrainConfig parseTrainConfig(const std::string& text, const std::string& name) { return fromToml(text, name, {}); }

namespace {
TrainConfig fromToml(const std::string& text, const std::string& path, TrainConfig c) {
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    std::ostringstream ss;
    ss << path << ":" << e.source().begin.line << ":" << e.source().begin.column << ": " << e.description();
    throw ConfigError(ss.str());
  }
  std::function<void(const toml::table&, const std::string&)> walk = [&](const toml::table& t, const std::string& prefix) {
    for (const auto& [k, node] : t) {
      const std::string p = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
      if (p == "model_config") {
        if (!node.is_table()) throw ConfigError(path + ": model_config must be a table");
        for (const auto& [mk, mv] : *node.as_table()) {
          std::ostringstream v;
          if (mv.is_string()) v << *mv.value<std::string>();
          else if (mv.is_boolean()) v << (*mv.value<bool>() ? "true" : "false");
          else if (mv.is_integer()) v << *mv.value<int64_t>();
          else if (mv.is_floating_point()) v << *mv.value<double>();
          else throw ConfigError(path + ": model_config." + std::string(mk.str()) + " must be a number, bool or string");
          c.modelSet.emplace_back(std::string(mk.str()), v.str());
        }
        continue;
      }
      if (node.is_table()) {
        walk(*node.as_table(), p);
        continue;
      }
      auto it = keys().find(p);
      if (it == keys().end()) unknownKey(p, path);
      try {
        it->second.set(c, node, p);
      } catch (const ConfigError& e) {
        std::ostringstream ss;
        ss << path << ":" << node.source().begin.line << ": " << e.what();
        throw ConfigError(ss.str());
      }
    }
  };
  walk(root, "");
  check(c);
  return c;
}
}  // namespace

void applyOverrides(TrainConfig& c, const std::vector<std::string>& overrides) {
  for (const std::string& o : overrides) {
    const size_t eq = o.find('=');
    if (eq == std::string::npos) throw ConfigError("--option expects section.key=value, got '" + o + "'");
    const std::string key = o.substr(0, eq), value = o.substr(eq + 1);
    if (key.rfind("model_config.", 0) == 0) {
      c.modelSet.emplace_back(key.substr(13), value);
      continue;
    }
    auto it = keys().find(key);
    if (it == keys().end()) unknownKey(key, "");
    // Parse the value as TOML so numbers, booleans and strings read as they would in the file.
    toml::table t;
    try {
      t = toml::parse("v = " + value);
    } catch (const toml::parse_error&) {
      t = toml::parse("v = \"" + value + "\"");
    }
    try {
      it->second.set(c, *t.get("v"), key);
    } catch (const ConfigError& e) {
      throw ConfigError(std::string("--option ") + e.what());
    }
  }
  check(c);
}

std::string toToml(const TrainConfig& c) {
  std::ostringstream out;
  std::string section;
  for (const auto& [path, key] : keys()) {
    const size_t dot = path.find('.');
    if (dot == std::string::npos) out << path << " = " << key.show(c) << "\n";
  }
  for (const char* s : {"data", "train"}) {
    out << "\n[" << s << "]\n";
    for (const auto& [path, key] : keys())
      if (path.rfind(std::string(s) + ".", 0) == 0) out << path.substr(std::string(s).size() + 1) << " = " << key.show(c) << "\n";
  }
  if (!c.modelSet.empty()) {
    out << "\n[model_config]\n";
    for (const auto& [k, v] : c.modelSet) out << k << " = " << quote(v) << "\n";
  }
  return out.str();
}

}  // namespace hrmc::runtime
