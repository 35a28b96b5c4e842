#pragma once
// safetensors files (F32 tensors + string metadata), written atomically (temp file, fsync, rename)
// with a checksum of the tensor data in the metadata, verified on read. Also reads BF16/F16-free
// files written by others (reference-format weights) as long as their tensors are F32 or BF16.
#include <map>
#include <string>

#include "runtime/io/ArrayDir.h"
#include "runtime/tensor/HostTensor.h"

namespace hrmc::runtime {

struct SafetensorsFile {
  std::map<std::string, HostTensor<float>> tensors;
  std::map<std::string, std::string> metadata;
};

void writeSafetensors(const std::string& path, const SafetensorsFile& file);
// Throws IoError naming the file and what is wrong (truncated, bad header, checksum mismatch, ...).
SafetensorsFile readSafetensors(const std::string& path);

}  // namespace hrmc::runtime
