#include "runtime/io/ArrayDir.h"

#include <cstring>
#include <filesystem>
#include <fstream>

namespace hrmc::runtime {

namespace fs = std::filesystem;

ArrayDir::ArrayDir(std::string dir) : dir_(std::move(dir)) {
  const fs::path m = fs::path(dir_) / "manifest.json";
  std::ifstream in(m);
  if (!in) throw IoError(m.string() + ": cannot open (an array directory needs a manifest.json)");
  try {
    manifest_ = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw IoError(m.string() + ": not valid JSON: " + e.what());
  }
  if (!manifest_.is_object() || !manifest_.contains("files") || !manifest_["files"].is_object())
    throw IoError(m.string() + ": missing the \"files\" object");
}

bool ArrayDir::has(const std::string& key) const { return manifest_["files"].contains(key); }

const nlohmann::json& ArrayDir::entry(const std::string& key) const {
  if (!has(key)) throw IoError(dir_ + "/manifest.json: no entry files." + key);
  const nlohmann::json& e = manifest_["files"][key];
  if (!e.is_object() || !e.contains("file") || !e["file"].is_string() || !e.contains("dtype"))
    throw IoError(dir_ + "/manifest.json: files." + key + " needs \"file\" and \"dtype\"");
  return e;
}

std::vector<char> ArrayDir::readFile(const std::string& key, const char* dtype, size_t elementSize, size_t& count) const {
  const nlohmann::json& e = entry(key);
  if (e["dtype"] != dtype)
    throw IoError(dir_ + "/manifest.json: files." + key + " is " + e["dtype"].dump() + ", expected \"" + dtype + "\"");
  const fs::path p = fs::path(dir_) / e["file"].get<std::string>();
  std::ifstream in(p, std::ios::binary | std::ios::ate);
  if (!in) throw IoError(p.string() + ": cannot open (files." + key + ")");
  const std::streamoff size = in.tellg();
  if (size < 0 || size % static_cast<std::streamoff>(elementSize) != 0)
    throw IoError(p.string() + ": " + std::to_string(size) + " bytes is not a whole number of " + dtype + " values");
  if (e.contains("bytes") && e["bytes"].is_number() && e["bytes"].get<int64_t>() != size)
    throw IoError(p.string() + ": " + std::to_string(size) + " bytes, the manifest says " + e["bytes"].dump());
  std::vector<char> buf(static_cast<size_t>(size));
  in.seekg(0);
  in.read(buf.data(), size);
  if (!in) throw IoError(p.string() + ": read failed");
  count = static_cast<size_t>(size) / elementSize;
  return buf;
}

namespace {
std::vector<int64_t> shapeOf(const nlohmann::json& e, const std::string& where) {
  std::vector<int64_t> shape;
  if (!e.contains("shape") || !e["shape"].is_array()) throw IoError(where + " has no \"shape\"");
  for (const auto& d : e["shape"]) {
    if (!d.is_number_integer() || d.get<int64_t>() < 0) throw IoError(where + ": bad dimension " + d.dump());
    shape.push_back(d.get<int64_t>());
  }
  return shape;
}
}  // namespace

HostTensor<float> ArrayDir::floats(const std::string& key) const {
  size_t n;
  std::vector<char> buf = readFile(key, "float32", 4, n);
  HostTensor<float> t;
  t.shape = shapeOf(entry(key), dir_ + "/manifest.json: files." + key);
  if (HostTensor<float>::numelOf(t.shape) != static_cast<int64_t>(n))
    throw IoError(dir_ + ": files." + key + " holds " + std::to_string(n) + " values but its shape is " + shapeString(t.shape));
  t.data.resize(n);
  std::memcpy(t.data.data(), buf.data(), buf.size());
  return t;
}

std::vector<int32_t> ArrayDir::ints(const std::string& key) const {
  size_t n;
  std::vector<char> buf = readFile(key, "int32", 4, n);
  std::vector<int32_t> v(n);
  std::memcpy(v.data(), buf.data(), buf.size());
  return v;
}

std::map<std::string, HostTensor<float>> ArrayDir::named(const std::string& key) const {
  size_t n;
  std::vector<char> buf = readFile(key, "float32", 4, n);
  const nlohmann::json& e = entry(key);
  if (!e.contains("index") || !e["index"].is_array()) throw IoError(dir_ + "/manifest.json: files." + key + " has no index");
  std::map<std::string, std::vector<int64_t>> shapes;
  if (manifest_.contains("param_order") && manifest_["param_order"].is_array())
    for (const auto& p : manifest_["param_order"])
      if (p.contains("name") && p["name"].is_string())
        shapes[p["name"].get<std::string>()] = shapeOf(p, dir_ + "/manifest.json: param_order");
  std::map<std::string, HostTensor<float>> out;
  for (const auto& item : e["index"]) {
    const std::string where = dir_ + "/manifest.json: files." + key + ".index";
    if (item.contains("present") && item["present"] == false) continue;  // e.g. a gradient that is None
    if (!item.contains("name") || !item.contains("offset") || !item.contains("numel"))
      throw IoError(where + ": an entry lacks name/offset/numel");
    const std::string name = item["name"].get<std::string>();
    const int64_t offset = item["offset"].get<int64_t>(), numel = item["numel"].get<int64_t>();
    if (offset < 0 || numel < 0 || static_cast<size_t>(offset + numel) > n)
      throw IoError(where + ": '" + name + "' lies outside the file");
    HostTensor<float> t;
    auto s = shapes.find(name);
    t.shape = s != shapes.end() ? s->second : std::vector<int64_t>{numel};
    if (HostTensor<float>::numelOf(t.shape) != numel) throw IoError(where + ": '" + name + "' numel does not match its shape");
    t.data.resize(static_cast<size_t>(numel));
    std::memcpy(t.data.data(), buf.data() + offset * 4, static_cast<size_t>(numel) * 4);
    out[name] = std::move(t);
  }
  return out;
}

PackedBatch ArrayDir::batch() const {
  PackedBatch b;
  b.inputs = ints("inputs");
  b.labels = has("labels") ? ints("labels") : std::vector<int32_t>(b.inputs.size(), -100);
  b.seq.positions = ints("position_ids");
  b.seq.prefixLens = ints("prefix_lens");
  b.seq.causalLens = ints("causal_lens");
  if (b.labels.size() != b.inputs.size() || b.seq.positions.size() != b.inputs.size())
    throw IoError(dir_ + ": inputs, labels and position_ids must have the same length");
  try {
    b.seq.build();
  } catch (const BatchError& e) {
    throw IoError(dir_ + ": " + e.what());
  }
  return b;
}

void writeArrayDir(const std::string& dir, const std::map<std::string, HostTensor<float>>& arrays,
                   const nlohmann::json& extra, const std::map<std::string, std::map<std::string, HostTensor<float>>>& groups) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw IoError(dir + ": cannot create the folder: " + ec.message());
  nlohmann::json manifest = extra;
  manifest["files"] = nlohmann::json::object();
  for (const auto& [key, t] : arrays) {
    const std::string file = key + ".float32.bin";
    std::ofstream out(fs::path(dir) / file, std::ios::binary);
    out.write(reinterpret_cast<const char*>(t.data.data()), static_cast<std::streamsize>(t.data.size() * 4));
    if (!out) throw IoError((fs::path(dir) / file).string() + ": write failed");
    manifest["files"][key] = {{"file", file}, {"dtype", "float32"}, {"shape", t.shape}, {"bytes", t.data.size() * 4}};
  }
  // A group is one file of named arrays with an index, their shapes in param_order (as ArrayDir::named reads).
  nlohmann::json order = manifest.contains("param_order") ? manifest["param_order"] : nlohmann::json::array();
  std::map<std::string, bool> ordered;
  for (const auto& p : order) ordered[p["name"].get<std::string>()] = true;
  for (const auto& [key, named] : groups) {
    const std::string file = key + ".float32.bin";
    std::ofstream out(fs::path(dir) / file, std::ios::binary);
    nlohmann::json index = nlohmann::json::array();
    int64_t offset = 0;
    for (const auto& [name, t] : named) {
      out.write(reinterpret_cast<const char*>(t.data.data()), static_cast<std::streamsize>(t.data.size() * 4));
      index.push_back({{"name", name}, {"present", true}, {"offset", offset}, {"numel", t.numel()}});
      offset += t.numel();
      if (!ordered[name]) {
        order.push_back({{"name", name}, {"shape", t.shape}});
        ordered[name] = true;
      }
    }
    if (!out) throw IoError((fs::path(dir) / file).string() + ": write failed");
    manifest["files"][key] = {{"file", file}, {"dtype", "float32"}, {"numel", offset}, {"index", index}};
  }
  if (!order.empty()) manifest["param_order"] = order;
  std::ofstream m(fs::path(dir) / "manifest.json");
  m << manifest.dump(1) << "\n";
  if (!m) throw IoError(dir + "/manifest.json: write failed");
}

}  // namespace hrmc::runtime
