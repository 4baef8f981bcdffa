#include "datasets/reader.h"

#include <algorithm>
#include <numeric>

#include "datasets/shard_check.h"
#include "datasets/shard_handles.h"
#include "framework/core/check.h"

namespace ft::datasets {

namespace {

// Options that only make sense for images fail on a vector set rather than being ignored.
void check_vector_options(const ReaderOptions& options, const Manifest& manifest) {
  std::string set = options.dir.string();
  if (options.flip) FT_FAIL("{}: a vector set ({} features) cannot be flipped; turn flip off", set, manifest.features);
  if (options.output == ReaderOutput::uint8_nhwc)
    FT_FAIL("{}: a vector set ({} features) holds float32 vectors, not uint8 images", set, manifest.features);
  if (options.dequantize)
    FT_FAIL("{}: a vector set ({} features) is read as stored; leave the dequantization (noise, range, bits) unset",
            set, manifest.features);
}

Manifest open_manifest(const ReaderOptions& options) {
  if (options.threads < 1) FT_FAIL("reader threads {} is not positive", options.threads);
  if (options.queue_batches < 1) FT_FAIL("reader queue of {} batches is not positive", options.queue_batches);
  Manifest manifest = read_manifest(options.dir);
  if (manifest.is_vectors()) check_vector_options(options, manifest);
  return manifest;
}

SamplerOptions sampler_options(const ReaderOptions& options, int64_t size) {
  return {size, options.global_batch, options.rank, options.world_size, options.seed, options.shuffle, options.drop_last};
}

}  // namespace

Reader::Reader(ReaderOptions options)
    : options_(std::move(options)),
      manifest_(open_manifest(options_)),
      sampler_(sampler_options(options_, manifest_.count)) {
  // Checks every shard first so a bad file fails here, by name, not mid-training.
  for (size_t shard = 0; shard < manifest_.shards.size(); ++shard) {
    shard_first_.push_back(int64_t(labels_.size()));
    std::vector<int32_t> labels = check_shard(options_.dir, manifest_, shard, options_.verify_checksums);
    labels_.insert(labels_.end(), labels.begin(), labels.end());
  }
  planned_ = delivered_ = sampler_.normalize(options_.start);
  for (int i = 0; i < options_.threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

Reader::~Reader() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

Position Reader::position() const {
  std::lock_guard lock(mutex_);
  return delivered_;
}

void Reader::worker_loop() {
  ShardHandles handles(options_.dir, manifest_);
  while (true) {
    uint64_t ticket = 0;
    BatchPlan plan;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] {
        return stopping_ || next_ticket_ < next_to_deliver_ + uint64_t(options_.queue_batches);
      });
      if (stopping_) return;
      ticket = next_ticket_++;
      plan = sampler_.plan(planned_);
      planned_ = plan.next;
    }
    Ticket done;
    try {
      done.batch = build(plan, handles);
    } catch (...) {
      done.error = std::current_exception();
    }
    {
      std::lock_guard lock(mutex_);
      ready_.emplace(ticket, std::move(done));
    }
    changed_.notify_all();
  }
}

Batch Reader::next() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return ready_.count(next_to_deliver_) > 0; });
  auto found = ready_.find(next_to_deliver_);
  Ticket ticket = std::move(found->second);
  ready_.erase(found);
  ++next_to_deliver_;
  if (!ticket.error) delivered_ = ticket.batch.next;
  lock.unlock();
  changed_.notify_all();
  if (ticket.error) std::rethrow_exception(ticket.error);
  return std::move(ticket.batch);
}

void Reader::read_samples(const BatchPlan& plan, ShardHandles& handles, uint8_t* out) const {
  const int64_t sample_bytes = manifest_.sample_bytes();
  // Read in file order (sorted ids): shards are contiguous ranges of ids.
  std::vector<int64_t> slots(plan.sample_ids.size(), 0);
  std::iota(slots.begin(), slots.end(), 0);
  std::sort(slots.begin(), slots.end(), [&](int64_t a, int64_t b) { return plan.sample_ids[size_t(a)] < plan.sample_ids[size_t(b)]; });
  for (int64_t slot : slots) {
    int64_t id = plan.sample_ids[size_t(slot)];
    auto shard = size_t(std::upper_bound(shard_first_.begin(), shard_first_.end(), id) - shard_first_.begin() - 1);
    handles.read_sample(shard, id - shard_first_[shard], out + slot * sample_bytes);
  }
  handles.check_read_shards_intact();
}

Batch Reader::build(const BatchPlan& plan, ShardHandles& handles) const {
  auto n = int64_t(plan.sample_ids.size());
  Batch batch;
  batch.position = plan.position;
  batch.next = plan.next;
  batch.rank_begin = plan.rank_begin;
  batch.sample_ids = plan.sample_ids;
  batch.labels = Tensor::empty({n}, DType::i64);
  int64_t* labels = batch.labels.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) labels[i] = labels_[size_t(plan.sample_ids[size_t(i)])];

  if (manifest_.is_vectors()) {
    batch.images = Tensor::empty({n, manifest_.features}, DType::f32);
    read_samples(plan, handles, reinterpret_cast<uint8_t*>(batch.images.data<float>()));
    return batch;
  }
  Tensor raw = Tensor::empty({n, manifest_.height, manifest_.width, manifest_.channels}, DType::u8);
  read_samples(plan, handles, raw.data<uint8_t>());
  batch.images = image_output(plan, std::move(raw));
  return batch;
}

Tensor Reader::image_output(const BatchPlan& plan, Tensor raw) const {
  ImageShape shape{manifest_.height, manifest_.width, manifest_.channels};
  const int64_t n = raw.size(0);
  uint8_t* pixels = raw.data<uint8_t>();
  if (options_.output == ReaderOutput::uint8_nhwc) {
    if (options_.flip)
      for (int64_t i = 0; i < n; ++i)
        if (flip_sample({options_.seed, plan.position.epoch, plan.rank_begin + i})) flip_image(pixels + i * shape.bytes(), shape);
    return raw;
  }
  const DequantizeOptions dequantize = options_.dequantize.value_or(DequantizeOptions{});
  Tensor images = Tensor::empty({n, shape.channels, shape.height, shape.width}, DType::f32);
  float* out = images.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    SampleKey key{options_.seed, plan.position.epoch, plan.rank_begin + i};
    dequantize_image(pixels + i * shape.bytes(), shape, options_.flip && flip_sample(key), dequantize, key,
                     out + i * shape.bytes());
  }
  return images;
}

}  // namespace ft::datasets
