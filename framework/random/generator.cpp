#include "framework/random/generator.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "framework/core/check.h"
#include "framework/kernels/kernels.h"
#include "framework/random/philox.h"

namespace ft {

__extension__ typedef unsigned __int128 u128;

uint64_t Generator::reserve(uint64_t count) {
  offset_ = (offset_ + 3) / 4 * 4;  // fills start on a block boundary
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

// Fills n values from the stream starting at value `start`: element i uses
// value start + i, whatever the thread count. Each Philox block yields four
// values, so threads take whole blocks. make(block, lane_base, out, count)
// writes up to four outputs from one block.
template <class T, class Make>
void fill_from_blocks(T* out, int64_t n, const Generator& gen, uint64_t start, Make make) {
  // start is a multiple of 4 (reserve() rounds), so block k covers elements 4k..4k+3.
  int64_t blocks = (n + 3) / 4;
#pragma omp parallel for schedule(static) if (n >= 16384)
  for (int64_t k = 0; k < blocks; ++k) {
    PhiloxBlock b = philox4x32_10(gen.seed(), gen.stream(), start / 4 + uint64_t(k));
    int64_t count = std::min<int64_t>(4, n - 4 * k);
    make(b, out + 4 * k, count);
  }
}

template <class Make>
Tensor fill_dense(const Shape& shape, DType dtype, const Generator& gen, uint64_t start, Make make) {
  Tensor out = Tensor::empty(shape, dtype == DType::f64 ? DType::f64 : DType::f32);
  int64_t n = out.numel();
  if (out.dtype() == DType::f64) {
    fill_from_blocks(out.data<double>(), n, gen, start, make);
  } else {
    fill_from_blocks(out.data<float>(), n, gen, start, make);
  }
  return out.dtype() == dtype ? out : kernels::cast(out, dtype);
}

}  // namespace

Tensor uniform(const Shape& shape, double low, double high, Generator& gen, DType dtype) {
  uint64_t start = gen.reserve(uint64_t(numel_of(shape)));
  return fill_dense(shape, dtype, gen, start, [low, high](const PhiloxBlock& b, auto* out, int64_t count) {
    using T = std::remove_pointer_t<decltype(out)>;
    for (int64_t j = 0; j < count; ++j) out[j] = T(low + (high - low) * philox_unit(b[size_t(j)]));
  });
}

Tensor normal(const Shape& shape, double mean, double std, Generator& gen, DType dtype) {
  uint64_t start = gen.reserve(uint64_t(numel_of(shape)));
  // Lanes (0, 1) and (2, 3) of a block each make one Box-Muller pair.
  return fill_dense(shape, dtype, gen, start, [mean, std](const PhiloxBlock& b, auto* out, int64_t count) {
    using T = std::remove_pointer_t<decltype(out)>;
    for (int64_t pair = 0; pair < 2 && 2 * pair < count; ++pair) {
      double radius = std::sqrt(-2.0 * std::log(philox_unit(b[size_t(2 * pair)])));
      double angle = 6.283185307179586476925 * philox_unit(b[size_t(2 * pair + 1)]);
      out[2 * pair] = T(mean + std * radius * std::cos(angle));
      if (2 * pair + 1 < count) out[2 * pair + 1] = T(mean + std * radius * std::sin(angle));
    }
  });
}

void uniform_(Tensor& t, double low, double high, Generator& gen) {
  t.copy_(uniform(t.shape(), low, high, gen, t.dtype()));
}

void normal_(Tensor& t, double mean, double std, Generator& gen) {
  t.copy_(normal(t.shape(), mean, std, gen, t.dtype()));
}

Tensor normal_per_example(int64_t n, const Shape& example, Generator& gen, DType dtype) {
  FT_CHECK(n >= 0, "normal_per_example of {} examples", n);
  const uint64_t size = uint64_t(numel_of(example)), stride = (size + 3) / 4 * 4, first = gen.offset();
  Shape shape{n};
  shape.insert(shape.end(), example.begin(), example.end());
  Generator at(gen.seed(), gen.stream(), first * stride);
  gen.set_offset(first + uint64_t(n));  // the next example's index
  if (stride == size) return normal(shape, 0.0, 1.0, at, dtype);  // the examples' values are contiguous
  Tensor out = Tensor::empty(shape, dtype);
  auto* bytes = static_cast<char*>(out.raw_data());
  const size_t example_bytes = size_t(size) * dtype_size(dtype);
  for (int64_t i = 0; i < n; ++i) {
    at.set_offset((first + uint64_t(i)) * stride);
    Tensor one = normal(example, 0.0, 1.0, at, dtype);
    std::copy_n(static_cast<const char*>(one.raw_data()), example_bytes, bytes + size_t(i) * example_bytes);
  }
  return out;
}

std::vector<int64_t> permutation(int64_t n, Generator& gen) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) p[size_t(i)] = i;
  for (int64_t i = n - 1; i > 0; --i) std::swap(p[size_t(i)], p[size_t(gen.next_below(uint64_t(i + 1)))]);
  return p;
}

}  // namespace ft
