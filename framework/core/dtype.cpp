#include "framework/core/dtype.h"

#include <ostream>

#include "framework/core/check.h"

namespace ft {

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::f32: case DType::i32: return 4;
    case DType::f64: case DType::i64: return 8;
    case DType::bf16: case DType::f16: return 2;
    case DType::u8: return 1;
  }
  return 0;
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::f32: return "f32";
    case DType::f64: return "f64";
    case DType::bf16: return "bf16";
    case DType::f16: return "f16";
    case DType::i32: return "i32";
    case DType::i64: return "i64";
    case DType::u8: return "u8";
  }
  return "?";
}

DType dtype_from_name(const std::string& name) {
  for (DType d : {DType::f32, DType::f64, DType::bf16, DType::f16, DType::i32, DType::i64, DType::u8})
    if (name == dtype_name(d)) return d;
  FT_FAIL("unknown dtype '{}' (expected f32, f64, bf16, f16, i32, i64 or u8)", name);
}

std::ostream& operator<<(std::ostream& out, DType dtype) { return out << dtype_name(dtype); }

std::string Device::str() const {
  if (kind == DeviceKind::cpu) return index == 0 ? std::string("cpu") : fmt::format("cpu:{}", index);
  return fmt::format("cuda:{}", index);
}

Device parse_device(const std::string& name) {
  const size_t colon = name.find(':');
  const std::string kind = name.substr(0, colon);
  int index = 0;
  if (colon != std::string::npos) {
    const std::string digits = name.substr(colon + 1);
    FT_CHECK(!digits.empty() && digits.size() <= 4 && digits.find_first_not_of("0123456789") == std::string::npos,
             "device '{}': the index after ':' must be a number", name);
    index = std::stoi(digits);
  }
  FT_CHECK(kind == "cpu" || kind == "cuda", "device '{}': expected cpu, cpu:N, cuda or cuda:N", name);
  return kind == "cpu" ? Device::cpu(index) : Device::cuda(index);
}

}  // namespace ft
