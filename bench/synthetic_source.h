// Pseudo-random images of one shape, generated block by block: a conversion source
// for benchmarks that need image sets of any size without real data.
#pragma once
#include "datasets/image_source.h"

namespace ft::bench {

class SyntheticSource : public datasets::ImageSource {
 public:
  SyntheticSource(int64_t count, int64_t side) : count_(count), shape_{side, side, 3} {}
  int64_t size() const override { return count_; }
  std::optional<datasets::ImageShape> native_shape() const override { return shape_; }
  nlohmann::json description() const override { return {{"kind", "synthetic"}}; }
  void read(int64_t count, const datasets::ImageShape& target, datasets::SourceBlock& block) override {
    datasets::prepare_block(block, count, target);
    for (uint8_t& value : block.pixels) value = uint8_t((state_ = state_ * 1664525u + 1013904223u) >> 24);
    for (int32_t& label : block.labels) label = int32_t(state_ % 1000);
  }
  void skip(int64_t count) override {
    datasets::SourceBlock discarded;
    read(count, shape_, discarded);
  }

 private:
  int64_t count_;
  datasets::ImageShape shape_;
  uint32_t state_ = 1;
};

}  // namespace ft::bench
