// Vectorizable float exp and erf for the CPU element-wise loops. libm's expf and
// erff are opaque calls, so a loop over them runs one element at a time; these are
// straight-line polynomials with selects instead of branches, which the compiler
// turns into SIMD code inside `#pragma omp simd` loops. Float only: double keeps
// std:: functions (f64 finite-difference gradient checks compare against them),
// and the device backends keep their own intrinsics.
//
// Accuracy (checked against double-precision std::exp/std::erf over dense grids
// by the fast_math cases of tests/framework/op_parity_test.cpp): exp within 1 ulp
// on its normal range, erfc within 5e-7 relative wherever its
// result is a normal float.
#pragma once
#include <bit>
#include <cstdint>
#include <type_traits>

#include "framework/kernels/functors.h"

namespace ft::kernels::fast {

// Branch-free helpers in the integer domain. GCC (with the default
// -ftrapping-math) will not if-convert a select on a float comparison, which
// leaves control flow in the loop and blocks vectorization; integer compares
// and bit selects on the float's bits carry no such restriction.
inline uint32_t bits(float x) { return std::bit_cast<uint32_t>(x); }
inline float from_bits(uint32_t u) { return std::bit_cast<float>(u); }
// An all-ones mask where cond holds.
inline uint32_t mask_if(bool cond) { return uint32_t(0) - uint32_t(cond); }
inline float select(uint32_t mask, float a, float b) { return from_bits((bits(a) & mask) | (bits(b) & ~mask)); }
// Signed integer whose order is the float order (NaNs sort past the infinities).
inline int32_t order_key(float x) {
  const int32_t i = int32_t(bits(x));
  return i ^ ((i >> 31) & 0x7fffffff);
}
inline float clamp(float x, float lo, float hi) {
  const int32_t k = order_key(x);
  return select(mask_if(k < order_key(lo)), lo, select(mask_if(k > order_key(hi)), hi, x));
}
inline uint32_t nan_mask(float x) { return mask_if((bits(x) & 0x7fffffffu) > 0x7f800000u); }

// e^r * 2^n for exp's reduced argument |r| <= ln2/2 (Cephes' expf polynomial); 2^n
// is built in the exponent bits in two halves so that results in the subnormal
// range come out right as well.
inline float exp_of_reduced(float r, int32_t ni) {
  const float r2 = r * r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float er = p * r2 + r + 1.0f;
  // 2^n = 2^(n/2) * 2^(n - n/2): each half is a normal float for n in [-150, 128].
  const int32_t n1 = ni / 2, n2 = ni - n1;
  const float s1 = std::bit_cast<float>(uint32_t(n1 + 127) << 23);
  const float s2 = std::bit_cast<float>(uint32_t(n2 + 127) << 23);
  return er * s1 * s2;
}

// Past these bounds the float result of exp is inf or 0 anyway; clamping keeps n in
// the range exp_of_reduced's two-halves scaling can represent.
constexpr float kExpLowest = -104.0f, kExpHighest = 88.8f;
// x = n ln2 + r with ln2 split in a high part with trailing zero bits (n * hi is
// exact, and so is x - n * hi) and a low part (Cody-Waite).
constexpr float kLn2High = 0.693359375f, kLn2LowNegated = 2.12194440e-4f;

// n = round(x / ln2) by the 1.5*2^23 trick: no float->int conversion (undefined for
// NaN in C++) and it vectorizes on plain SSE2.
inline float nearest_multiple_of_ln2(float x, int32_t* ni) {
  constexpr float kShifter = 12582912.0f;  // 1.5 * 2^23
  const float shifted = x * 1.44269504088896341f + kShifter;
  *ni = int32_t(std::bit_cast<uint32_t>(shifted) - std::bit_cast<uint32_t>(kShifter));
  return shifted - kShifter;
}

// exp(x) by Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2. NaN propagates; +-inf
// give inf and 0.
inline float exp(float x) {
  const float xc = clamp(x, kExpLowest, kExpHighest);
  int32_t ni;
  const float n = nearest_multiple_of_ln2(xc, &ni);
  const float r = (xc - n * kLn2High) + n * kLn2LowNegated;
  return select(nan_mask(x), x, exp_of_reduced(r, ni));
}

// exp(hi + lo) for an hi that is exact and an |lo| below about 0.1, without rounding
// hi + lo: lo joins the reduced argument after hi has been reduced exactly, so a
// large hi costs no relative accuracy. For finite arguments (erfc's Gaussian).
inline float exp_of_sum(float hi, float lo) {
  const float hc = clamp(hi, kExpLowest, kExpHighest);
  int32_t ni;
  const float n = nearest_multiple_of_ln2(hc + lo, &ni);
  const float r = ((hc - n * kLn2High) + lo) + n * kLn2LowNegated;
  return exp_of_reduced(r, ni);
}

// erfc(z): for |z| < 0.5, 1 - z*T(z^2) with Cephes' erff polynomial (3.7e-8
// relative on erf; below 0.5, 1 - erf loses at most a bit to cancellation); for
// |z| >= 0.5, exp(-z^2) * R(t), t = 1/(1 + |z|/2), R a degree-9 least-squares
// fit of erfc(a)*exp(a^2) on a in [0.5, 10] (3e-7 relative in float); erfc(-z) = 2 - erfc(z). Relative accuracy in the tail is what keeps
// GELU's CDF right for negative inputs. NaN propagates.
inline float erfc_and_gaussian(float z, float* gaussian);
inline float erfc(float z) {
  float unused;
  return erfc_and_gaussian(z, &unused);
}

// erfc(z) as above, and exp(-z^2) in *gaussian (0 past |z| = 11, where it underflows):
// the large branch's Gaussian, computed for every |z| <= 11.
inline float erfc_and_gaussian(float z, float* gaussian) {
  const float a = from_bits(bits(z) & 0x7fffffffu);
  const uint32_t below_half = mask_if(bits(a) < bits(0.5f));  // a >= 0: bit order is value order
  const float a2 = a * a;
  float s = 7.853861353153693e-5f;
  s = s * a2 + -8.010193625184903e-4f;
  s = s * a2 + 5.188327685732524e-3f;
  s = s * a2 + -2.685381193529856e-2f;
  s = s * a2 + 1.128358514861418e-1f;
  s = s * a2 + -3.761262582423300e-1f;
  s = s * a2 + 1.128379165726710e+0f;
  const float small = 1.0f - a * s;
  const float ac = clamp(a, 0.5f, 10.0f);
  const float t = 1.0f / (1.0f + 0.5f * ac);
  float r = -0.07484222203493118f;
  r = r * t + 0.3531045913696289f;
  r = r * t + -0.6144794225692749f;
  r = r * t + 0.41016462445259094f;
  r = r * t + -0.11069360375404358f;
  r = r * t + 0.23656319081783295f;
  r = r * t + 0.23449522256851196f;
  r = r * t + 0.28370094299316406f;
  r = r * t + 0.2819744646549225f;
  r = r * t + 3.944589934690157e-06f;
  // exp(-a^2) with a^2 split exactly: hi keeps 12 mantissa bits so hi*hi is exact,
  // and a^2 - hi^2 = (a - hi)(a + hi) is small (below 0.06 for a <= 11); rounding a^2
  // itself would cost a^2 * 6e-8 relative error (4e-6 at a = 8). One exp of the two
  // parts, for every a up to 11: GELU's slope reads it as the normal density too.
  const float ag = clamp(a, 0.0f, 11.0f);
  const float hi = std::bit_cast<float>(std::bit_cast<uint32_t>(ag) & 0xfffff000u);
  const float gauss = exp_of_sum(-hi * hi, (hi - ag) * (hi + ag));
  *gaussian = select(mask_if(bits(a) > bits(11.0f)), 0.0f, select(nan_mask(z), z, gauss));
  const float large = select(mask_if(bits(a) > bits(10.0f)), 0.0f, gauss * r);  // erfc(10) ~ 2e-45
  const float e = select(below_half, small, large);
  const float y = select(mask_if(bits(z) >> 31 != 0), 2.0f - e, e);
  return select(nan_mask(z), z, y);
}

}  // namespace ft::kernels::fast

namespace ft::kernels {

// The math policy of functors.h for CPU loops: float goes through the polynomials
// above, every other type through the standard library as before.
struct CpuMath {
  template <class T>
  static T exp(T x) {
    if constexpr (std::is_same_v<T, float>) return fast::exp(x);
    else return StdMath::exp(x);
  }
  template <class T>
  static T erfc(T x) {
    if constexpr (std::is_same_v<T, float>) return fast::erfc(x);
    else return StdMath::erfc(x);
  }
  template <class T>
  static T erfc_and_gaussian(T z, T* gaussian) {
    if constexpr (std::is_same_v<T, float>) return fast::erfc_and_gaussian(z, gaussian);
    else return StdMath::erfc_and_gaussian(z, gaussian);
  }
};

}  // namespace ft::kernels
