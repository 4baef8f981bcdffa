// safetensors files (Hugging Face's format, read by `safetensors.torch.load_file`):
// an 8-byte little-endian header length, a JSON header naming each tensor's dtype,
// shape and byte range, an optional "__metadata__" string map, then the raw
// row-major little-endian bytes. How trained weights leave flowtrain and come in.
#pragma once
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "framework/core/tensor.h"

namespace ft::io {

struct SafetensorsContents {
  std::map<std::string, Tensor> tensors;  // CPU tensors in the stored dtype
  std::map<std::string, std::string> metadata;
};

// Written atomically; tensors in the given order, any device and dtype. Names must
// be unique and non-empty.
void write_safetensors(const std::filesystem::path& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata);

// Every header field and byte range is checked: errors name the file and the tensor.
SafetensorsContents read_safetensors(const std::filesystem::path& path);

}  // namespace ft::io
