// Element types and devices.
#pragma once
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <type_traits>

#include "framework/core/half.h"

namespace ft {

enum class DType : uint8_t { f32, f64, bf16, f16, i32, i64, u8 };

size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);
DType dtype_from_name(const std::string& name);  // throws on an unknown name
std::ostream& operator<<(std::ostream& out, DType dtype);
inline bool is_floating(DType d) {
  return d == DType::f32 || d == DType::f64 || d == DType::bf16 || d == DType::f16;
}

template <class T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::f32; }
template <> constexpr DType dtype_of<double>() { return DType::f64; }
template <> constexpr DType dtype_of<bf16>() { return DType::bf16; }
template <> constexpr DType dtype_of<f16>() { return DType::f16; }
template <> constexpr DType dtype_of<int32_t>() { return DType::i32; }
template <> constexpr DType dtype_of<int64_t>() { return DType::i64; }
template <> constexpr DType dtype_of<uint8_t>() { return DType::u8; }

// Calls fn(T{}) with T the C++ type of dtype.
template <class Fn> decltype(auto) dispatch_dtype(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::f32: return fn(float{});
    case DType::f64: return fn(double{});
    case DType::bf16: return fn(bf16{});
    case DType::f16: return fn(f16{});
    case DType::i32: return fn(int32_t{});
    case DType::i64: return fn(int64_t{});
    case DType::u8: return fn(uint8_t{});
  }
  return fn(float{});
}

enum class DeviceKind : uint8_t { cpu, cuda };

// cpu:1 is host memory that counts as a second device, so tests catch an op that
// allocates on the wrong device (or mixes devices) without a GPU.
constexpr int kCpuDevices = 2;

struct Device {
  DeviceKind kind = DeviceKind::cpu;
  int index = 0;
  bool operator==(const Device&) const = default;
  std::string str() const;  // "cpu", "cpu:1", "cuda:0"
  static Device cpu(int i = 0) { return {DeviceKind::cpu, i}; }
  static Device cuda(int i = 0) { return {DeviceKind::cuda, i}; }
};

// "cpu", "cpu:N", "cuda" (cuda:0) or "cuda:N"; throws naming anything else.
Device parse_device(const std::string& name);

}  // namespace ft
