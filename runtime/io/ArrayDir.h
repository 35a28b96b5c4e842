#pragma once
// A directory of raw little-endian arrays described by manifest.json — the layout of tests/golden:
//   files.KEY = {file, dtype, shape}                     one array
//   files.KEY = {file, dtype, index: [{name, offset, numel, present}]}   many named arrays in one file
//   param_order = [{name, shape}]                         shapes of the named arrays
// Used to load reference weights, a packed batch and expected outputs. Every read is checked (file
// present, size, dtype, shape) and a problem is reported as an IoError naming the file and key.
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/batch/PackedBatch.h"
#include "runtime/tensor/HostTensor.h"

namespace hrmc::runtime {

struct IoError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class ArrayDir {
 public:
  explicit ArrayDir(std::string dir);  // reads and checks manifest.json

  bool has(const std::string& key) const;
  HostTensor<float> floats(const std::string& key) const;
  std::vector<int32_t> ints(const std::string& key) const;
  // Named arrays of an indexed file; entries with present = false are left out.
  std::map<std::string, HostTensor<float>> named(const std::string& key) const;
  // The packed batch: inputs, labels, position_ids, prefix_lens, causal_lens.
  PackedBatch batch() const;
  const nlohmann::json& manifest() const { return manifest_; }
  const std::string& path() const { return dir_; }

 private:
  std::vector<char> readFile(const std::string& key, const char* dtype, size_t elementSize, size_t& count) const;
  const nlohmann::json& entry(const std::string& key) const;

  std::string dir_;
  nlohmann::json manifest_;
};

// Writes float32 arrays as DIR/KEY.float32.bin plus DIR/manifest.json (creating DIR); each group (e.g.
// "grads_k2": gradients by weight name) as one indexed file that ArrayDir::named reads back.
void writeArrayDir(const std::string& dir, const std::map<std::string, HostTensor<float>>& arrays,
                   const nlohmann::json& extra = nlohmann::json::object(),
                   const std::map<std::string, std::map<std::string, HostTensor<float>>>& groups = {});

}  // namespace hrmc::runtime
