// Element-wise math written once for host and device: the CPU kernels and the
// CUDA kernels instantiate these same functions, so the CPU tests check the math
// the GPU runs.
#pragma once
#include <cmath>
#include <type_traits>

#include "framework/core/half.h"

namespace ft {

enum class UnaryOp { neg, exp, log, sqrt, square, sigmoid, log_sigmoid, softplus, tanh, relu, gelu, abs, pow };
enum class BinaryOp { add, sub, mul, div };

// The transcendental functions the functors below call, as a policy: the default
// is the standard library's (and CUDA's device overloads). The CPU backend passes
// a policy whose float exp/erfc are vectorizable polynomials
// (kernels/cpu/fast_math.h); the formulas stay here, written once.
struct StdMath {
  template <class T>
  FT_HOST_DEVICE static T exp(T x) {
    using std::exp;
    return exp(x);
  }
  template <class T>
  FT_HOST_DEVICE static T erfc(T x) {
    using std::erfc;
    return erfc(x);
  }
  // erfc(z), and exp(-z^2) in *gaussian: GELU's slope takes both.
  template <class T>
  FT_HOST_DEVICE static T erfc_and_gaussian(T z, T* gaussian) {
    *gaussian = exp(-z * z);
    return erfc(z);
  }
};

template <class T, class Math = StdMath>
FT_HOST_DEVICE T stable_sigmoid(T x) {
  if (x >= T(0)) return T(1) / (T(1) + Math::exp(-x));
  T e = Math::exp(x);
  return e / (T(1) + e);
}

// y = f(x); p is the exponent of pow.
// GELU's normal CDF is 0.5 * erfc(-x/sqrt2) rather than 0.5 * (1 + erf(x/sqrt2)):
// equal in exact arithmetic, but for negative x the latter cancels (1 - 0.99..)
// and loses most of its digits, the former does not.
template <UnaryOp op, class T, class Math = StdMath>
FT_HOST_DEVICE T unary_forward(T x, T p) {
  using std::abs; using std::log; using std::log1p;
  using std::pow; using std::sqrt; using std::tanh;
  if constexpr (op == UnaryOp::neg) return -x;
  else if constexpr (op == UnaryOp::exp) return Math::exp(x);
  else if constexpr (op == UnaryOp::log) return log(x);
  else if constexpr (op == UnaryOp::sqrt) return sqrt(x);
  else if constexpr (op == UnaryOp::square) return x * x;
  else if constexpr (op == UnaryOp::sigmoid) return stable_sigmoid<T, Math>(x);
  else if constexpr (op == UnaryOp::log_sigmoid) return (x < T(0) ? x : T(0)) - log1p(Math::exp(-abs(x)));
  else if constexpr (op == UnaryOp::softplus) return (x > T(0) ? x : T(0)) + log1p(Math::exp(-abs(x)));
  else if constexpr (op == UnaryOp::tanh) return tanh(x);
  else if constexpr (op == UnaryOp::relu) return x > T(0) ? x : T(0);
  else if constexpr (op == UnaryOp::gelu) return T(0.5) * x * Math::erfc(x * T(-0.70710678118654752440));
  else if constexpr (op == UnaryOp::abs) return abs(x);
  else return pow(x, p);
}

// dL/dx = g * f'(x), given x, y = f(x) and g = dL/dy.
template <UnaryOp op, class T, class Math = StdMath>
FT_HOST_DEVICE T unary_backward(T x, T y, T g, T p) {
  using std::pow;
  if constexpr (op == UnaryOp::neg) return -g;
  else if constexpr (op == UnaryOp::exp) return g * y;
  else if constexpr (op == UnaryOp::log) return g / x;
  else if constexpr (op == UnaryOp::sqrt) return g * T(0.5) / y;
  else if constexpr (op == UnaryOp::square) return g * T(2) * x;
  else if constexpr (op == UnaryOp::sigmoid) return g * y * (T(1) - y);
  else if constexpr (op == UnaryOp::log_sigmoid) return g * stable_sigmoid<T, Math>(-x);
  else if constexpr (op == UnaryOp::softplus) return g * stable_sigmoid<T, Math>(x);
  else if constexpr (op == UnaryOp::tanh) return g * (T(1) - y * y);
  else if constexpr (op == UnaryOp::relu) return x > T(0) ? g : T(0);
  else if constexpr (op == UnaryOp::gelu) {
    // phi(x) = exp(-z^2) / sqrt(2 pi) for z = -x / sqrt(2), the Gaussian erfc computes anyway.
    T gaussian;
    T cdf = T(0.5) * Math::erfc_and_gaussian(x * T(-0.70710678118654752440), &gaussian);
    T pdf = gaussian * T(0.39894228040143267794);
    return g * (cdf + x * pdf);
  } else if constexpr (op == UnaryOp::abs) return x > T(0) ? g : (x < T(0) ? -g : T(0));
  else return g * p * pow(x, p - T(1));
}

// Whether unary_backward above reads y = f(x); the others read x (or neither), so
// autograd keeps a forward's output alive only for these.
constexpr bool unary_backward_reads_output(UnaryOp op) {
  return op == UnaryOp::exp || op == UnaryOp::sqrt || op == UnaryOp::sigmoid || op == UnaryOp::tanh;
}

template <BinaryOp op, class T>
FT_HOST_DEVICE T binary_forward(T a, T b) {
  if constexpr (op == BinaryOp::add) return a + b;
  else if constexpr (op == BinaryOp::sub) return a - b;
  else if constexpr (op == BinaryOp::mul) return a * b;
  else return a / b;
}

// Calls fn(std::integral_constant<UnaryOp, op>{}) for a runtime op, so loops are
// instantiated per op and carry no switch inside.
template <class Fn>
decltype(auto) dispatch_unary(UnaryOp op, Fn&& fn) {
#define FT_UNARY_CASE(name) \
  case UnaryOp::name: return fn(std::integral_constant<UnaryOp, UnaryOp::name>{});
  switch (op) {
    FT_UNARY_CASE(neg) FT_UNARY_CASE(exp) FT_UNARY_CASE(log) FT_UNARY_CASE(sqrt)
    FT_UNARY_CASE(square) FT_UNARY_CASE(sigmoid) FT_UNARY_CASE(log_sigmoid) FT_UNARY_CASE(softplus)
    FT_UNARY_CASE(tanh) FT_UNARY_CASE(relu) FT_UNARY_CASE(gelu) FT_UNARY_CASE(abs) FT_UNARY_CASE(pow)
  }
#undef FT_UNARY_CASE
  return fn(std::integral_constant<UnaryOp, UnaryOp::pow>{});
}

template <class Fn>
decltype(auto) dispatch_binary(BinaryOp op, Fn&& fn) {
  switch (op) {
    case BinaryOp::add: return fn(std::integral_constant<BinaryOp, BinaryOp::add>{});
    case BinaryOp::sub: return fn(std::integral_constant<BinaryOp, BinaryOp::sub>{});
    case BinaryOp::mul: return fn(std::integral_constant<BinaryOp, BinaryOp::mul>{});
    case BinaryOp::div: return fn(std::integral_constant<BinaryOp, BinaryOp::div>{});
  }
  return fn(std::integral_constant<BinaryOp, BinaryOp::add>{});
}

}  // namespace ft
