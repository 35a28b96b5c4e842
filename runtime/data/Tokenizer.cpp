#include "runtime/data/Tokenizer.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace hrmc::runtime {

std::vector<int32_t> Tokenizer::instruction(const std::string& text, const std::string& conditions) const {
  std::vector<int32_t> ids{boq()};
  std::stringstream ss(conditions.empty() ? "direct" : conditions);
  for (std::string c; std::getline(ss, c, ',');) {
    const int32_t id = condition(c);
    if (id < 0) throw std::invalid_argument("unknown condition '" + c + "' (known: direct, cot, noisy, synth)");
    ids.push_back(id);
  }
  std::vector<int32_t> body = encode(text);
  ids.insert(ids.end(), body.begin(), body.end());
  ids.push_back(eoq());
  return ids;
}

std::vector<int32_t> Tokenizer::response(const std::string& text) const {
  std::vector<int32_t> ids = encode(text);
  ids.push_back(eoa());
  return ids;
}

std::vector<int32_t> ByteTokenizer::encode(const std::string& text) const {
  std::vector<int32_t> ids;
  ids.reserve(text.size());
  for (unsigned char c : text) ids.push_back(c);
  return ids;
}

std::string ByteTokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string s;
  for (int32_t id : ids)
    if (id >= 0 && id < 256) s += static_cast<char>(id);
  return s;
}

int32_t ByteTokenizer::condition(const std::string& name) const {
  const auto& names = conditionNames();
  auto it = std::find(names.begin(), names.end(), name);
  return it == names.end() ? -1 : 259 + static_cast<int32_t>(it - names.begin());
}

}  // namespace hrmc::runtime
