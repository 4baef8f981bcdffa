// Data-parallel gradient averaging over one flat arena, overlapped with backward.
//
// Every parameter becomes a view of one flat parameter arena, and its .grad a view
// of one flat gradient arena with the same layout (parameter order). Backward's
// AccumulateGrad adds into a defined .grad in place, so gradients land directly in
// the arena and a bucket (a contiguous range of it) can be all-reduced as one
// message without packing. Buckets are filled from the last parameter backwards
// because backward completes gradients roughly in reverse order: bucket 0 (the
// end of the arena) is ready first and its all-reduce runs while the rest of
// backward computes.
//
// Typical step:
//   reducer.zero_grad();
//   loss.backward();                      // buckets start reducing during backward
//   reducer.finish_gradient_reduction();  // gradient arena = average over ranks
//   optimizer.step();                     // over the arena (or its ZeRO-1 shard)
//   reducer.gather_parameters();          // ZeRO-1 only
// Build the reducer before anything that keeps copies of the parameter tensors
// (an optimizer): it rebinds the module's slots to new (arena view) tensors.
// With gradient accumulation, call set_grad_sync(false) for every micro-batch but
// the last, so that buckets are only launched once the gradients are complete.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "framework/dist/communicator.h"

namespace ft::dist {

struct ReducerOptions {
  // Bucket capacity in MiB. <= 0: one bucket for the whole arena, reduced in
  // finish_gradient_reduction after backward ("unbucketed", no overlap).
  double bucket_megabytes = 25.0;
  // ZeRO-1: one reduce-scatter of the gradient arena into this rank's shard, the
  // optimizer updates only that shard, gather_parameters re-assembles.
  bool zero1 = false;
};

class GradientReducer {
 public:
  GradientReducer(std::vector<std::pair<std::string, Tensor*>> slots, std::shared_ptr<Communicator> comm,
                  ReducerOptions options);
  ~GradientReducer();
  GradientReducer(const GradientReducer&) = delete;  // hooks point at this object
  GradientReducer& operator=(const GradientReducer&) = delete;

  // Every rank's parameters become root's (call once at start).
  void broadcast_parameters(int root = 0);
  // Zeroes the gradient arena and resets the bucket state for the next step.
  // Re-installs a parameter's .grad view if something replaced or cleared it.
  void zero_grad();
  // Waits for every launched reduction, launches (in bucket order) the buckets
  // whose gradients never became ready (parameters unused in this step) and waits
  // for them. Afterwards the gradient arena holds the average over ranks. ZeRO-1:
  // one reduce-scatter(average); afterwards only this rank's shard of the
  // gradient arena ([shard_begin, shard_begin + shard_size)) holds the average,
  // the rest still holds this rank's local gradient.
  void finish_gradient_reduction();
  // ZeRO-1: after the optimizer updated this rank's shard of the parameter arena,
  // every rank's shard is gathered back into the full parameter arena.
  void gather_parameters();
  // false: grad-ready hooks launch nothing (gradient accumulation micro-batches);
  // finish_gradient_reduction still reduces everything. Default true.
  void set_grad_sync(bool enabled) { grad_sync_ = enabled; }

  Tensor& parameter_arena() { return param_arena_; }  // flat f32 [padded_size]
  Tensor& gradient_arena() { return grad_arena_; }
  int64_t parameter_count() const { return parameter_count_; }  // without padding
  int64_t padded_size() const { return padded_size_; }
  // This rank's ZeRO-1 shard of the arenas (the whole arena without zero1).
  int64_t shard_begin() const { return shard_begin_; }
  int64_t shard_size() const { return shard_size_; }
  Tensor shard_parameters();  // view of the parameter arena [shard_size]
  Tensor shard_gradients();   // view of the gradient arena [shard_size]

  // Seconds blocked waiting for reductions (and in blocking collectives) since the
  // last reset: the "time waiting on all-reduce" share of the step. On a GPU, the
  // compute stream's stalls (Communicator::take_device_seconds_waiting) of the
  // waits that have completed.
  double seconds_waiting();
  void reset_timers();
  int bucket_count() const { return int(buckets_.size()); }
  // A bucket's [begin, end) range of the arena (for logs and tests).
  std::pair<int64_t, int64_t> bucket_range(int bucket) const;

  struct Parameter {
    std::string name;
    Tensor* slot = nullptr;
    int64_t offset = 0, numel = 0;
    int bucket = 0;
    bool requires_grad = true;
    Tensor grad_view;  // the .grad installed on the parameter
  };
  const std::vector<Parameter>& parameters() const { return params_; }

 private:
  struct Bucket {
    int64_t begin = 0, end = 0;  // range of the arena
    int parameters_pending = 0;  // gradients not yet ready in this step
    int parameters_total = 0;    // parameters that require grad
    std::unique_ptr<PendingReduction> pending;
    bool launched = false;
  };

  void on_grad_ready(size_t index, Tensor& grad);
  void launch_in_order(bool force);
  void wait_all_launched();
  void reset_step_state();
  void drive_progress();

  std::shared_ptr<Communicator> comm_;
  ReducerOptions options_;
  std::vector<Parameter> params_;
  std::vector<Bucket> buckets_;
  std::vector<char> ready_;  // per parameter, in this step
  Tensor param_arena_, grad_arena_;
  int64_t parameter_count_ = 0, padded_size_ = 0, shard_begin_ = 0, shard_size_ = 0;
  int next_launch_ = 0;     // buckets [0, next_launch_) are launched this step
  int progress_index_ = 0;  // buckets before it are known complete (drive_progress)
  bool grad_sync_ = true;
  double seconds_waiting_ = 0.0;
  Tensor shard_buffer_;  // ZeRO-1 reduce-scatter target (MPI forbids overlapping buffers)
  // The hooks hold a weak reference to this cell, which the destructor clears, so
  // a parameter that outlives the reducer runs a harmless no-op hook.
  std::shared_ptr<GradientReducer*> self_;
};

}  // namespace ft::dist
