// Exponential moving average of the weights, kept in f32 next to the master weights,
// on their device.
#pragma once
#include <cstdint>

#include "framework/core/tensor.h"

namespace ft::optim {

// Exponential moving average of a flat parameter range:
// shadow = decay*shadow + (1-decay)*params. The first update copies, so the average
// does not start biased towards zero.
class Ema {
 public:
  Ema(int64_t n, double decay, Device device = Device::cpu());
  void update(const Tensor& params);  // contiguous f32 [n] on the shadow's device
  Tensor& shadow() { return shadow_; }
  double decay() const { return decay_; }
  bool initialized() const { return initialized_; }
  void set_initialized(bool initialized) { initialized_ = initialized; }  // restored from checkpoints

 private:
  Tensor shadow_;
  double decay_;
  bool initialized_ = false;
};

}  // namespace ft::optim
