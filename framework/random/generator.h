// Random streams: a stream is (seed, stream id); draws advance an offset counted
// in 32-bit values. The offset is the whole state: save it and a resumed run
// draws the same numbers.
#pragma once
#include <cstdint>
#include <vector>

#include "framework/core/tensor.h"

namespace ft {

class Generator {
 public:
  Generator(uint64_t seed = 0, uint64_t stream = 0, uint64_t offset = 0)
      : seed_(seed), stream_(stream), offset_(offset) {}
  uint64_t seed() const { return seed_; }
  uint64_t stream() const { return stream_; }
  uint64_t offset() const { return offset_; }
  void set_offset(uint64_t offset) { offset_ = offset; }

  // Reserves count 32-bit values in whole Philox blocks (starting on a block
  // boundary) and returns the first one's offset.
  uint64_t reserve(uint64_t count);
  uint32_t next_u32();
  uint64_t next_u64();
  uint64_t next_below(uint64_t bound);  // uniform integer in [0, bound), unbiased
  double next_unit();                   // uniform in (0, 1)

  // 32-bit value number `index` of this stream.
  uint32_t value_at(uint64_t index) const;

 private:
  uint64_t seed_, stream_, offset_;
};

// Fills with U(low, high) / N(mean, std); f32, f64 (bf16/f16 via f32).
Tensor uniform(const Shape& shape, double low, double high, Generator& gen, DType dtype = DType::f32);
Tensor normal(const Shape& shape, double mean, double std, Generator& gen, DType dtype = DType::f32);
void uniform_(Tensor& t, double low, double high, Generator& gen);
void normal_(Tensor& t, double mean, double std, Generator& gen);
// N(0, 1) draws of n examples of shape `example`, keyed by example index: with
// first = gen.offset(), example i gets the values from (first + i) * k on, k being the
// example's size rounded up to whole Philox blocks. So an example's noise depends on
// its index alone, however a global batch is split across ranks. gen's offset then
// counts examples, not values: it becomes first + n, the next example's index.
Tensor normal_per_example(int64_t n, const Shape& example, Generator& gen, DType dtype = DType::f32);
// A uniformly random permutation of 0..n-1 (Fisher-Yates on the stream).
std::vector<int64_t> permutation(int64_t n, Generator& gen);

}  // namespace ft
