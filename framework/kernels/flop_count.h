// Floating-point operations of the compute-bound kernels, counted where they are
// dispatched (kernels.cpp): matrix products (2mnk), linear, conv2d and its backward,
// causal and cached attention forward and backward (the causal half only: the
// FLOPs a causal kernel must do). What MFU divides by the device's peak
// (`flowtrain bench`); element-wise and normalisation kernels are memory-bound and
// left out, as in the usual MFU count.
#pragma once
#include <cstdint>

namespace ft::kernels {

// Counts the kernels this thread dispatches while it is alive; counters nest (an
// inner one's operations count in the outer one too).
class FlopCounter {
 public:
  FlopCounter();
  ~FlopCounter();
  FlopCounter(const FlopCounter&) = delete;
  FlopCounter& operator=(const FlopCounter&) = delete;
  double flops() const { return flops_; }

 private:
  friend void count_flops(double flops);
  double flops_ = 0.0;
  FlopCounter* outer_;
};

// Adds to the counters of this thread (none: nothing happens).
void count_flops(double flops);

}  // namespace ft::kernels
