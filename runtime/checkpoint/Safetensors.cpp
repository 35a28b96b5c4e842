#include "runtime/checkpoint/Safetensors.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace hrmc::runtime {

namespace {

constexpr const char* kChecksumKey = "hrmc.checksum";

uint64_t fnv1a(const char* data, size_t n, uint64_t h = 0xcbf29ce484222325ull) {
  for (size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(data[i]);
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

void writeSafetensors(const std::string& path, const SafetensorsFile& file) {
  nlohmann::json header = nlohmann::json::object();
  std::string data;
  for (const auto& [name, t] : file.tensors) {
    const size_t begin = data.size();
    data.append(reinterpret_cast<const char*>(t.data.data()), t.data.size() * 4);
    header[name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {begin, data.size()}}};
  }
  nlohmann::json meta = nlohmann::json::object();
  for (const auto& [k, v] : file.metadata) meta[k] = v;
  meta[kChecksumKey] = hex(fnv1a(data.data(), data.size()));
  header["__metadata__"] = meta;
  std::string h = header.dump();
  h.append((8 - h.size() % 8) % 8, ' ');  // align the data section
  const uint64_t hlen = h.size();

  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw IoError(tmp + ": cannot create: " + std::strerror(errno));
  auto writeAll = [&](const char* p, size_t n) {
    while (n > 0) {
      const ssize_t w = ::write(fd, p, n);
      if (w <= 0) {
        ::close(fd);
        throw IoError(tmp + ": write failed: " + std::strerror(errno));
      }
      p += w;
      n -= static_cast<size_t>(w);
    }
  };
  writeAll(reinterpret_cast<const char*>(&hlen), 8);
  writeAll(h.data(), h.size());
  writeAll(data.data(), data.size());
  if (::fsync(fd) != 0 || ::close(fd) != 0) throw IoError(tmp + ": fsync failed");
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw IoError(path + ": cannot rename the temporary file into place: " + ec.message());
}

SafetensorsFile readSafetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw IoError(path + ": cannot open");
  const int64_t size = in.tellg();
  in.seekg(0);
  uint64_t hlen = 0;
  if (size < 8 || !in.read(reinterpret_cast<char*>(&hlen), 8) || hlen > (1u << 30))
    throw IoError(path + ": not a safetensors file (bad header length)");
  if (hlen > static_cast<uint64_t>(size) - 8)
    throw IoError(path + ": truncated: the header needs " + std::to_string(hlen + 8) + " bytes, the file has " +
                  std::to_string(size) + "\nhint: the file was cut short (an interrupted copy or a full disk); use an earlier checkpoint");
  std::string h(hlen, '\0');
  in.read(h.data(), static_cast<std::streamsize>(hlen));
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(h);
  } catch (const nlohmann::json::exception& e) {
    throw IoError(path + ": not a safetensors file (header is not JSON: " + e.what() + ")");
  }
  if (!header.is_object()) throw IoError(path + ": not a safetensors file (header is not an object)");
  const uint64_t dataSize = static_cast<uint64_t>(size) - 8 - hlen;
  // A file cut short is named as such before any checksum or offset check can blame its contents.
  uint64_t needed = 0;
  for (const auto& [name, entry] : header.items())
    if (name != "__metadata__" && entry.is_object() && entry.contains("data_offsets") && entry["data_offsets"].is_array() &&
        entry["data_offsets"].size() == 2 && entry["data_offsets"][1].is_number_unsigned())
      needed = std::max<uint64_t>(needed, entry["data_offsets"][1].get<uint64_t>());
  if (needed > dataSize)
    throw IoError(path + ": truncated: expected " + std::to_string(8 + hlen + needed) + " bytes, found " + std::to_string(size) +
                  "\nhint: the file was cut short (an interrupted copy or a full disk); use an earlier checkpoint");
  std::string data(dataSize, '\0');
  in.read(data.data(), static_cast<std::streamsize>(dataSize));
  if (!in) throw IoError(path + ": cannot read " + std::to_string(dataSize) + " bytes of tensor data");
  SafetensorsFile out;
  if (header.contains("__metadata__") && header["__metadata__"].is_object())
    for (const auto& [k, v] : header["__metadata__"].items())
      if (v.is_string()) out.metadata[k] = v.get<std::string>();
  if (auto it = out.metadata.find(kChecksumKey); it != out.metadata.end() && it->second != hex(fnv1a(data.data(), data.size())))
    throw IoError(path + ": checksum mismatch: the file is corrupt (tensor data changed after it was written)");
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") continue;
    const std::string where = path + ": tensor '" + name + "'";
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") || !entry.contains("data_offsets"))
      throw IoError(where + " lacks dtype/shape/data_offsets");
    const std::string dtype = entry["dtype"];
    if (dtype != "F32" && dtype != "BF16") throw IoError(where + " has dtype " + dtype + "; F32 and BF16 are supported");
    HostTensor<float> t;
    for (const auto& d : entry["shape"]) t.shape.push_back(d.get<int64_t>());
    const uint64_t begin = entry["data_offsets"][0], end = entry["data_offsets"][1];
    const uint64_t elem = dtype == "F32" ? 4 : 2;
    const int64_t numel = HostTensor<float>::numelOf(t.shape);
    if (end < begin || end > dataSize || (end - begin) != static_cast<uint64_t>(numel) * elem)
      throw IoError(where + ": data_offsets do not match its shape and dtype");
    t.data.resize(static_cast<size_t>(numel));
    if (dtype == "F32") {
      std::memcpy(t.data.data(), data.data() + begin, end - begin);
    } else {
      for (int64_t i = 0; i < numel; ++i) {
        uint16_t b;
        std::memcpy(&b, data.data() + begin + 2 * i, 2);
        const uint32_t bits = static_cast<uint32_t>(b) << 16;
        std::memcpy(&t.data[i], &bits, 4);
      }
    }
    out.tensors[name] = std::move(t);
  }
  return out;
}

}  // namespace hrmc::runtime
