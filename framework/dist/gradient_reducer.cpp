#include "framework/dist/gradient_reducer.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <unordered_map>

namespace ft::dist {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A flat [begin, end) range of an arena as its own contiguous tensor.
Tensor arena_range(const Tensor& arena, int64_t begin, int64_t end) {
  return make_view(arena, {end - begin}, {1}, arena.offset() + begin);
}

}  // namespace

GradientReducer::GradientReducer(std::vector<std::pair<std::string, Tensor*>> slots,
                                 std::shared_ptr<Communicator> comm, ReducerOptions options)
    : comm_(std::move(comm)), options_(options), self_(std::make_shared<GradientReducer*>(this)) {
  FT_CHECK(comm_ != nullptr, "GradientReducer needs a communicator");

  // Layout: parameters in slot order. A tensor registered under two names (tied
  // weights) gets one place in the arena, and both slots are rebound to it.
  Device device = Device::cpu();
  std::unordered_map<const TensorImpl*, size_t> first_slot;
  std::vector<std::pair<Tensor*, size_t>> aliases;
  int64_t offset = 0;
  for (auto& [name, slot] : slots) {
    FT_CHECK(slot != nullptr && slot->defined(), "parameter {} is undefined", name);
    const Tensor& p = *slot;
    FT_CHECK(p.dtype() == DType::f32, "parameter {} is {}: the gradient arena is f32 (fp32 master weights)",
             name, dtype_name(p.dtype()));
    FT_CHECK(p.is_leaf(), "parameter {} is not a leaf tensor", name);
    if (params_.empty()) device = p.device();
    FT_CHECK(p.device() == device, "parameter {} is on {} but the first parameter on {}", name,
             p.device().str(), device.str());
    if (auto it = first_slot.find(&p.impl()); it != first_slot.end()) {
      aliases.emplace_back(slot, it->second);
      continue;
    }
    first_slot.emplace(&p.impl(), params_.size());
    Parameter entry;
    entry.name = name;
    entry.slot = slot;
    entry.offset = offset;
    entry.numel = p.numel();
    entry.requires_grad = p.requires_grad();
    params_.push_back(std::move(entry));
    offset += p.numel();
  }
  parameter_count_ = offset;
  const int64_t world = comm_->size();
  // ZeRO-1 splits the arena into size() equal shards: pad the end (zeros, never
  // read by any parameter) to a multiple of size().
  padded_size_ = options_.zero1 ? (parameter_count_ + world - 1) / world * world : parameter_count_;
  shard_size_ = options_.zero1 ? padded_size_ / world : padded_size_;
  shard_begin_ = options_.zero1 ? int64_t(comm_->rank()) * shard_size_ : 0;

  param_arena_ = Tensor::zeros({padded_size_}, DType::f32, device);
  grad_arena_ = Tensor::zeros({padded_size_}, DType::f32, device);
  if (options_.zero1) shard_buffer_ = Tensor::zeros({shard_size_}, DType::f32, device);

  for (size_t i = 0; i < params_.size(); ++i) {
    Parameter& entry = params_[i];
    Tensor old = *entry.slot;
    const Shape shape = old.shape();
    Tensor view = make_view(param_arena_, shape, contiguous_strides(shape), param_arena_.offset() + entry.offset);
    view.copy_(old);
    entry.grad_view = make_view(grad_arena_, shape, contiguous_strides(shape), grad_arena_.offset() + entry.offset);
    if (old.grad().defined()) entry.grad_view.copy_(old.grad());
    *entry.slot = view;
    if (!entry.requires_grad) continue;
    view.set_requires_grad(true);
    entry.slot->set_grad(entry.grad_view);
    entry.slot->register_grad_ready_hook([cell = std::weak_ptr<GradientReducer*>(self_), i](Tensor& grad) {
      if (auto self = cell.lock(); self && *self) (*self)->on_grad_ready(i, grad);
    });
  }
  for (auto& [slot, index] : aliases) *slot = *params_[index].slot;

  // Buckets: from the last parameter backwards, closed once they reach the cap
  // (a parameter larger than the cap gets a bucket of its own; none is split).
  const bool single = options_.zero1 || options_.bucket_megabytes <= 0.0;
  if (single) {
    Bucket bucket;
    bucket.end = padded_size_;
    buckets_.push_back(std::move(bucket));
    for (auto& entry : params_) entry.bucket = 0;
  } else {
    const auto cap = std::max<int64_t>(1, int64_t(options_.bucket_megabytes * 1024.0 * 1024.0 / sizeof(float)));
    int64_t end = padded_size_;
    for (size_t i = params_.size(); i-- > 0;) {
      params_[i].bucket = int(buckets_.size());
      if (end - params_[i].offset >= cap || i == 0) {
        const int64_t begin = i == 0 ? 0 : params_[i].offset;
        Bucket bucket;
        bucket.begin = begin;
        bucket.end = end;
        buckets_.push_back(std::move(bucket));
        end = begin;
      }
    }
  }
  for (auto& entry : params_)
    if (entry.requires_grad) ++buckets_[size_t(entry.bucket)].parameters_total;
  ready_.assign(params_.size(), 0);
  reset_step_state();
}

GradientReducer::~GradientReducer() {
  *self_ = nullptr;
  // Reductions in flight write into the arena: finish them before it goes away.
  try {
    wait_all_launched();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "flowtrain: a gradient reduction failed during teardown: %s\n", e.what());
  }
}

std::pair<int64_t, int64_t> GradientReducer::bucket_range(int bucket) const {
  FT_CHECK(bucket >= 0 && bucket < bucket_count(), "bucket {} of {}", bucket, bucket_count());
  return {buckets_[size_t(bucket)].begin, buckets_[size_t(bucket)].end};
}

Tensor GradientReducer::shard_parameters() { return arena_range(param_arena_, shard_begin_, shard_begin_ + shard_size_); }

Tensor GradientReducer::shard_gradients() { return arena_range(grad_arena_, shard_begin_, shard_begin_ + shard_size_); }

double GradientReducer::seconds_waiting() {
  seconds_waiting_ += comm_->take_device_seconds_waiting();
  return seconds_waiting_;
}

void GradientReducer::reset_timers() {
  comm_->take_device_seconds_waiting();
  seconds_waiting_ = 0.0;
}

void GradientReducer::broadcast_parameters(int root) {
  const auto start = Clock::now();
  comm_->broadcast(param_arena_, root);
  seconds_waiting_ += seconds_since(start);
}

void GradientReducer::reset_step_state() {
  std::fill(ready_.begin(), ready_.end(), char(0));
  for (auto& bucket : buckets_) {
    bucket.parameters_pending = bucket.parameters_total;
    bucket.pending.reset();
    bucket.launched = false;
  }
  next_launch_ = 0;
  progress_index_ = 0;
}

void GradientReducer::zero_grad() {
  wait_all_launched();  // never zero memory that a reduction still writes
  seconds_waiting_ += comm_->take_device_seconds_waiting();  // the last step's stalls, so few events stay pending
  grad_arena_.zero_();
  for (auto& entry : params_) {
    FT_CHECK(entry.slot->shares_storage(param_arena_),
             "parameter {} was rebound after the GradientReducer was built; gradients would miss the arena",
             entry.name);
    // An optimizer's zero_grad(set_to_none) or a set_grad elsewhere would send the
    // next gradient to a fresh tensor instead of the arena.
    if (entry.requires_grad && !entry.slot->grad().same(entry.grad_view)) entry.slot->set_grad(entry.grad_view);
  }
  reset_step_state();
}

void GradientReducer::on_grad_ready(size_t index, Tensor& grad) {
  Parameter& entry = params_[index];
  if (!grad.same(entry.grad_view)) {
    // The gradient went to a tensor other than the arena view (its .grad was
    // replaced): bring it into the arena before it is reduced.
    entry.grad_view.copy_(grad);
    entry.slot->set_grad(entry.grad_view);
  }
  if (!grad_sync_) return;
  Bucket& bucket = buckets_[size_t(entry.bucket)];
  if (ready_[index]) {
    // A second backward in the same step: harmless until the bucket is in flight,
    // after which AccumulateGrad has just written into memory MPI is reducing.
    FT_CHECK(!bucket.launched,
             "gradient of {} became ready again after its bucket's all-reduce started; use set_grad_sync(false) "
             "for gradient-accumulation micro-batches and zero_grad() between steps",
             entry.name);
    return;
  }
  ready_[index] = 1;
  --bucket.parameters_pending;
  if (options_.zero1 || options_.bucket_megabytes <= 0.0) return;  // reduced in finish_gradient_reduction
  launch_in_order(false);
  drive_progress();
}

void GradientReducer::launch_in_order(bool force) {
  // Strictly in bucket order, on every rank: MPI matches collectives by order,
  // so a bucket completed early waits for its predecessors.
  while (next_launch_ < bucket_count()) {
    Bucket& bucket = buckets_[size_t(next_launch_)];
    if (!force && bucket.parameters_pending > 0) break;
    Tensor range = arena_range(grad_arena_, bucket.begin, bucket.end);
    bucket.pending = comm_->all_reduce_async(range, ReduceOp::average);
    bucket.launched = true;
    ++next_launch_;
  }
}

void GradientReducer::drive_progress() {
  // Open MPI advances non-blocking collectives only inside MPI calls; testing the
  // oldest unfinished one from each hook keeps them moving during backward.
  while (progress_index_ < next_launch_) {
    Bucket& bucket = buckets_[size_t(progress_index_)];
    if (bucket.pending && !bucket.pending->test()) break;
    ++progress_index_;
  }
}

void GradientReducer::wait_all_launched() {
  for (int b = 0; b < next_launch_; ++b) {
    Bucket& bucket = buckets_[size_t(b)];
    if (!bucket.pending) continue;
    const auto start = Clock::now();
    bucket.pending->wait();
    seconds_waiting_ += seconds_since(start);
    bucket.pending.reset();
  }
}

void GradientReducer::finish_gradient_reduction() {
  if (options_.zero1) {
    const auto start = Clock::now();
    comm_->reduce_scatter(grad_arena_, shard_buffer_, ReduceOp::average);
    seconds_waiting_ += seconds_since(start);
    Tensor shard = shard_gradients();
    shard.copy_(shard_buffer_);
  } else {
    launch_in_order(true);  // buckets with unused parameters, and the unbucketed arena
    wait_all_launched();
  }
  reset_step_state();
}

void GradientReducer::gather_parameters() {
  // Without ZeRO-1 every rank updated the whole arena already.
  if (!options_.zero1) return;
  const auto start = Clock::now();
  Tensor shard = shard_parameters();
  comm_->all_gather(shard, param_arena_);
  seconds_waiting_ += seconds_since(start);
}

}  // namespace ft::dist
