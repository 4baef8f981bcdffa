#include "framework/io/safetensors.h"

#include <nlohmann/json.hpp>

#include <cstring>
#include <set>

#include "framework/core/check.h"
#include "framework/io/durable_file.h"

namespace ft::io {

namespace {

// The format's dtype names for ours (it has no others that we store).
const std::vector<std::pair<DType, std::string>>& dtype_names() {
  static const std::vector<std::pair<DType, std::string>> names = {
      {DType::f32, "F32"}, {DType::f64, "F64"}, {DType::bf16, "BF16"}, {DType::f16, "F16"},
      {DType::i32, "I32"}, {DType::i64, "I64"}, {DType::u8, "U8"}};
  return names;
}

std::string format_dtype(DType dtype) {
  for (const auto& [d, name] : dtype_names())
    if (d == dtype) return name;
  FT_FAIL("safetensors cannot store a {} tensor", dtype_name(dtype));
}

DType parse_dtype(const std::string& name, const std::string& where) {
  for (const auto& [d, n] : dtype_names())
    if (n == name) return d;
  FT_FAIL("{}: dtype '{}' is not one flowtrain reads (F32, F64, BF16, F16, I32, I64, U8)", where, name);
}

void put_u64_le(std::string& out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out.push_back(char((value >> (8 * i)) & 0xff));
}

uint64_t get_u64_le(const std::string& bytes) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | uint8_t(bytes[size_t(i)]);
  return value;
}

}  // namespace

void write_safetensors(const std::filesystem::path& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<Tensor> dense;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    FT_CHECK(!name.empty() && name != "__metadata__", "{}: tensor name '{}' is reserved or empty", path.string(), name);
    FT_CHECK(!header.contains(name), "{}: tensor '{}' given twice", path.string(), name);
    Tensor host = tensor.detach().to(Device::cpu()).contiguous();
    header[name] = {{"dtype", format_dtype(host.dtype())},
                    {"shape", host.shape()},
                    {"data_offsets", {offset, offset + host.nbytes()}}};
    offset += host.nbytes();
    dense.push_back(host);
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // keeps the tensor bytes 8-byte aligned, as the reference writer does
  std::string file;
  file.reserve(8 + text.size() + offset);
  put_u64_le(file, text.size());
  file += text;
  for (const Tensor& t : dense) file.append(static_cast<const char*>(t.raw_data()), t.nbytes());
  write_file_atomically(path, file);
}

SafetensorsContents read_safetensors(const std::filesystem::path& path) {
  const std::string where = path.string();
  const std::string bytes = read_text_file(path);
  if (bytes.size() < 8) FT_FAIL("{}: {} bytes is too short for a safetensors file", where, bytes.size());
  const uint64_t header_size = get_u64_le(bytes);
  if (header_size > bytes.size() - 8)
    FT_FAIL("{}: header of {} bytes runs past the end of the {}-byte file", where, header_size, bytes.size());
  nlohmann::json header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + long(header_size), nullptr, false);
  if (header.is_discarded() || !header.is_object()) FT_FAIL("{}: the header is not a JSON object", where);
  const uint64_t data_size = bytes.size() - 8 - header_size;
  const char* data = bytes.data() + 8 + header_size;
  SafetensorsContents out;
  uint64_t covered = 0;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) FT_FAIL("{}: __metadata__ is not an object", where);
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string()) FT_FAIL("{}: metadata '{}' is not a string", where, key);
        out.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    const std::string tensor_where = where + ": tensor '" + name + "'";
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") || !entry.contains("data_offsets"))
      FT_FAIL("{} lacks dtype, shape or data_offsets", tensor_where);
    const DType dtype = parse_dtype(entry["dtype"].get<std::string>(), tensor_where);
    const Shape shape = entry["shape"].get<Shape>();
    const auto offsets = entry["data_offsets"].get<std::vector<uint64_t>>();
    int64_t numel = 1;
    for (int64_t d : shape) {
      if (d < 0) FT_FAIL("{} has a negative dimension in shape {}", tensor_where, shape_str(shape));
      numel *= d;
    }
    if (offsets.size() != 2 || offsets[0] > offsets[1] || offsets[1] > data_size)
      FT_FAIL("{}: byte range {} is outside the {} data bytes", tensor_where, entry["data_offsets"].dump(), data_size);
    if (offsets[1] - offsets[0] != uint64_t(numel) * dtype_size(dtype))
      FT_FAIL("{}: {} bytes for shape {} of {}", tensor_where, offsets[1] - offsets[0], shape_str(shape),
              dtype_name(dtype));
    Tensor t = Tensor::empty(shape, dtype);
    if (numel > 0) std::memcpy(t.raw_data(), data + offsets[0], t.nbytes());
    covered += offsets[1] - offsets[0];
    out.tensors.emplace(name, std::move(t));
  }
  if (covered != data_size)
    FT_FAIL("{}: the tensors cover {} of {} data bytes (overlapping or stray bytes)", where, covered, data_size);
  return out;
}

}  // namespace ft::io
