#include "framework/io/npy_writer.h"

#include <fmt/core.h>

#include <cstring>

#include "framework/core/check.h"
#include "framework/io/durable_file.h"

namespace ft::io {

void write_npy_file(const std::string& path, const Tensor& values) {
  FT_CHECK(is_floating(values.dtype()), "{}: npy output takes floating values, got {}", path, dtype_name(values.dtype()));
  std::string shape;
  for (int64_t d : values.shape()) shape += fmt::format("{}, ", d);
  if (values.dim() > 1) shape.resize(shape.size() - 2);  // (n,) keeps its comma, (n, d) drops the last
  std::string header = fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}), }}", shape);
  // Magic, version 1.0, header length; the header is padded with spaces to a multiple of 64 and ends in \n.
  size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  auto length = uint16_t(header.size());
  out.push_back(char(length & 0xFF));
  out.push_back(char(length >> 8));
  out += header;
  Tensor f32 = values.to(Device::cpu()).to(DType::f32).contiguous();
  size_t offset = out.size();
  out.resize(offset + size_t(f32.numel()) * sizeof(float));
  std::memcpy(out.data() + offset, f32.data<float>(), size_t(f32.numel()) * sizeof(float));
  write_file_atomically(path, out);
}

}  // namespace ft::io
