#pragma once
// Tokenizers and the sample layout of HRM-TEXT.md §3.1:
//   instruction = [BOQ] + condition tokens + tokenize(instruction text) + [EOQ]
//   response    = tokenize(response text) + [EOA]
// ByteTokenizer maps UTF-8 bytes to ids 0..255 and puts the special tokens after them; the vocabulary
// is padded to a multiple of 256. A BPE tokenizer implements the same interface.
#include <cstdint>
#include <string>
#include <vector>

namespace hrmc::runtime {

// The conditions of §3.1; a sample's condition is one of these names (or a comma list, "synth,cot").
inline const std::vector<std::string>& conditionNames() {
  static const std::vector<std::string> names = {"direct", "cot", "noisy", "synth"};
  return names;
}

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  virtual std::vector<int32_t> encode(const std::string& text) const = 0;
  // Text of the ids; special tokens are left out.
  virtual std::string decode(const std::vector<int32_t>& ids) const = 0;
  virtual int32_t boq() const = 0;
  virtual int32_t eoq() const = 0;
  virtual int32_t eoa() const = 0;
  // The token of a condition name, or -1 if it is not one.
  virtual int32_t condition(const std::string& name) const = 0;
  virtual int64_t vocabSize() const = 0;  // tokens the tokenizer can produce
  int64_t paddedVocab() const { return (vocabSize() + 255) / 256 * 256; }
  virtual std::string name() const = 0;

  // [BOQ] cond… text [EOQ]; throws std::invalid_argument on an unknown condition.
  std::vector<int32_t> instruction(const std::string& text, const std::string& conditions) const;
  // text [EOA]
  std::vector<int32_t> response(const std::string& text) const;
};

class ByteTokenizer : public Tokenizer {
 public:
  std::vector<int32_t> encode(const std::string& text) const override;
  std::string decode(const std::vector<int32_t>& ids) const override;
  int32_t boq() const override { return 256; }
  int32_t eoq() const override { return 257; }
  int32_t eoa() const override { return 258; }
  int32_t condition(const std::string& name) const override;
  int64_t vocabSize() const override { return 259 + static_cast<int64_t>(conditionNames().size()); }
  std::string name() const override { return "bytes"; }
};

}  // namespace hrmc::runtime
