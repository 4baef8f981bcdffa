#include "framework/random/generator.h"

#include <cmath>

#include "framework/kernels/kernels.h"
#include "framework/random/philox.h"

namespace ft {

__extension__ typedef unsigned __int128 u128;

uint64_t Generator::reserve(uint64_t count) {
  uint64_t start = offset_;
  offset_ += (count + 3) / 4 * 4;
  return start;
}

uint32_t Generator::value_at(uint64_t index) const {
  return philox4x32_10(seed_, stream_, index / 4)[index % 4];
}

uint32_t Generator::next_u32() { return value_at(offset_++); }

uint64_t Generator::next_u64() {
  uint64_t hi = next_u32();
  return (hi << 32) | next_u32();
}

uint64_t Generator::next_below(uint64_t bound) {
  FT_CHECK(bound > 0, "random integer below {}", bound);
  // Lemire's multiply-shift with rejection of the biased low range.
  uint64_t threshold = (0 - bound) % bound;
  while (true) {
    u128 product = u128(next_u64()) * bound;
    if (uint64_t(product) >= threshold) return uint64_t(product >> 64);
  }
}

double Generator::next_unit() { return philox_unit(next_u32()); }

namespace {

// Element i of a normal fill uses lanes of block (start + i) / 4: lanes (0,1) and
// (2,3) each make a Box-Muller pair.
inline double normal_at(const Generator& gen, uint64_t start, int64_t i) {
  uint64_t index = start + uint64_t(i);
  PhiloxBlock b = philox4x32_10(gen.seed(), gen.stream(), index / 4);
  int lane = int(index % 4);
  int pair = lane & ~1;
  double u1 = philox_unit(b[size_t(pair)]), u2 = philox_unit(b[size_t(pair + 1)]);
  double radius = std::sqrt(-2.0 * std::log(u1));
  double angle = 6.283185307179586476925 * u2;
  return (lane & 1) ? radius * std::sin(angle) : radius * std::cos(angle);
}

template <class Draw>
Tensor fill_dense(const Shape& shape, DType dtype, Draw draw) {
  Tensor out = Tensor::empty(shape, dtype == DType::f64 ? DType::f64 : DType::f32);
  int64_t n = out.numel();
  if (out.dtype() == DType::f64) {
    double* p = out.data<double>();
#pragma omp parallel for schedule(static) if (n >= 16384)
    for (int64_t i = 0; i < n; ++i) p[i] = draw(i);
  } else {
    float* p = out.data<float>();
#pragma omp parallel for schedule(static) if (n >= 16384)
    for (int64_t i = 0; i < n; ++i) p[i] = float(draw(i));
  }
  return out.dtype() == dtype ? out : kernels::cast(out, dtype);
}

}  // namespace

Tensor uniform(const Shape& shape, double low, double high, Generator& gen, DType dtype) {
  uint64_t start = gen.reserve(uint64_t(numel_of(shape)));
  return fill_dense(shape, dtype, [&](int64_t i) { return low + (high - low) * philox_unit(gen.value_at(start + uint64_t(i))); });
}

Tensor normal(const Shape& shape, double mean, double std, Generator& gen, DType dtype) {
  uint64_t start = gen.reserve(uint64_t(numel_of(shape)));
  return fill_dense(shape, dtype, [&](int64_t i) { return mean + std * normal_at(gen, start, i); });
}

void uniform_(Tensor& t, double low, double high, Generator& gen) {
  t.copy_(uniform(t.shape(), low, high, gen, t.dtype()));
}

void normal_(Tensor& t, double mean, double std, Generator& gen) {
  t.copy_(normal(t.shape(), mean, std, gen, t.dtype()));
}

std::vector<int64_t> permutation(int64_t n, Generator& gen) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) p[size_t(i)] = i;
  for (int64_t i = n - 1; i > 0; --i) std::swap(p[size_t(i)], p[size_t(gen.next_below(uint64_t(i + 1)))]);
  return p;
}

}  // namespace ft
