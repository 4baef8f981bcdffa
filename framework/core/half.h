// bf16 and f16 storage types with round-to-nearest-even conversion from f32.
// Usable from host and device code so the CPU tests check the GPU's rounding.
#pragma once
#include <cstdint>
#include <cstring>
#include <type_traits>

#if defined(__CUDACC__)
#define FT_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define FT_HOST_DEVICE inline
#endif

namespace ft {

FT_HOST_DEVICE uint32_t float_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
#endif
}

FT_HOST_DEVICE float bits_float(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float f;
  std::memcpy(&f, &u, 4);
  return f;
#endif
}

struct bf16 {
  uint16_t bits = 0;
  bf16() = default;
  FT_HOST_DEVICE explicit bf16(float f) : bits(from_float(f)) {}
  FT_HOST_DEVICE explicit operator float() const { return bits_float(uint32_t(bits) << 16); }

  FT_HOST_DEVICE static uint16_t from_float(float f) {
    uint32_t u = float_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40u);  // quiet NaN
    uint32_t rounding = 0x7fffu + ((u >> 16) & 1u);                           // ties to even
    return uint16_t((u + rounding) >> 16);
  }
};

struct f16 {
  uint16_t bits = 0;
  f16() = default;
  FT_HOST_DEVICE explicit f16(float f) : bits(from_float(f)) {}
  FT_HOST_DEVICE explicit operator float() const { return to_float(bits); }

  FT_HOST_DEVICE static uint16_t from_float(float f) {
    uint32_t u = float_bits(f);
    uint32_t sign = (u >> 16) & 0x8000u;
    uint32_t abs = u & 0x7fffffffu;
    if (abs > 0x7f800000u) return uint16_t(sign | 0x7e00u);  // NaN
    if (abs >= 0x477ff000u) return uint16_t(sign | 0x7c00u);  // rounds to >= 65536: inf
    if (abs < 0x38800000u) {                                   // subnormal or zero in f16
      // Scale so the f16 subnormal unit (2^-24) lands on integer units, round to even.
      float magnitude = bits_float(abs);
      float scaled = magnitude * 16777216.0f;  // 2^24, exact
      uint32_t whole = uint32_t(scaled);
      float frac = scaled - float(whole);
      if (frac > 0.5f || (frac == 0.5f && (whole & 1u))) ++whole;
      return uint16_t(sign | whole);
    }
    // Normal: rebias exponent (127 -> 15) and round 13 dropped mantissa bits to even.
    uint32_t rebased = abs - (uint32_t(127 - 15) << 23);
    uint32_t rounding = 0xfffu + ((rebased >> 13) & 1u);
    return uint16_t(sign | ((rebased + rounding) >> 13));
  }

  FT_HOST_DEVICE static float to_float(uint16_t h) {
    uint32_t sign = uint32_t(h & 0x8000u) << 16;
    uint32_t exponent = (h >> 10) & 0x1fu;
    uint32_t mantissa = h & 0x3ffu;
    if (exponent == 0x1fu) return bits_float(sign | 0x7f800000u | (mantissa << 13));
    if (exponent == 0) {
      float magnitude = float(mantissa) * (1.0f / 16777216.0f);  // mantissa * 2^-24
      return sign ? -magnitude : magnitude;
    }
    return bits_float(sign | ((exponent + 112u) << 23) | (mantissa << 13));
  }
};

template <class T>
constexpr bool is_half_v = std::is_same_v<T, bf16> || std::is_same_v<T, f16>;

// One element from type S to type D, the same on CPU and GPU: half types go
// through float, everything else is a static_cast.
template <class D, class S>
FT_HOST_DEVICE D convert_element(S value) {
  if constexpr (std::is_same_v<D, S>) {
    return value;
  } else if constexpr (is_half_v<S>) {
    return convert_element<D>(static_cast<float>(value));
  } else if constexpr (is_half_v<D>) {
    return D(static_cast<float>(value));
  } else {
    return static_cast<D>(value);
  }
}

}  // namespace ft
