#include "datasets/sampler.h"

#include <numeric>

#include "framework/core/check.h"
#include "framework/random/generator.h"

namespace ft::datasets {

uint64_t sample_stream(SampleStream purpose, int64_t epoch) {
  return (uint64_t(purpose) << 48) | uint64_t(epoch);
}

Sampler::Sampler(SamplerOptions options) : options_(options) {
  FT_CHECK(options_.dataset_size > 0, "a dataset of {} samples", options_.dataset_size);
  FT_CHECK(options_.world_size > 0 && options_.rank >= 0 && options_.rank < options_.world_size,
           "rank {} of world size {}", options_.rank, options_.world_size);
  if (options_.global_batch <= 0 || options_.global_batch % options_.world_size != 0)
    FT_FAIL("global batch {} is not a positive multiple of the world size {}", options_.global_batch,
            options_.world_size);
  if (options_.drop_last && options_.global_batch > options_.dataset_size)
    FT_FAIL("global batch {} is larger than the {} samples of the dataset", options_.global_batch, options_.dataset_size);
}

int64_t Sampler::batches_per_epoch() const {
  int64_t n = options_.dataset_size, b = options_.global_batch;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

Position Sampler::normalize(Position position) const {
  FT_CHECK(position.epoch >= 0 && position.consumed >= 0, "position (epoch {}, consumed {})", position.epoch,
           position.consumed);
  int64_t end = options_.drop_last ? batches_per_epoch() * options_.global_batch : options_.dataset_size;
  if (position.consumed >= end) return {position.epoch + 1, 0};
  return position;
}

std::vector<int64_t> Sampler::epoch_order(int64_t size, uint64_t seed, int64_t epoch, bool shuffle) {
  if (!shuffle) {
    std::vector<int64_t> order(size_t(size), 0);
    std::iota(order.begin(), order.end(), 0);
    return order;
  }
  Generator generator(seed, sample_stream(SampleStream::order, epoch));
  return permutation(size, generator);
}

BatchPlan Sampler::plan(Position position) {
  position = normalize(position);
  if (position.epoch != cached_epoch_) {
    order_ = epoch_order(options_.dataset_size, options_.seed, position.epoch, options_.shuffle);
    cached_epoch_ = position.epoch;
  }
  BatchPlan plan;
  plan.position = position;
  plan.global_size = std::min(options_.global_batch, options_.dataset_size - position.consumed);
  int64_t r = options_.rank, world = options_.world_size, b = plan.global_size;
  plan.rank_begin = position.consumed + r * b / world;
  int64_t rank_end = position.consumed + (r + 1) * b / world;
  plan.sample_ids.assign(order_.begin() + plan.rank_begin, order_.begin() + rank_end);
  plan.next = normalize({position.epoch, position.consumed + b});
  return plan;
}

}  // namespace ft::datasets
