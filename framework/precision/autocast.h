// Autocast: inside an AutocastGuard(bf16 or f16) the ops that dominate compute —
// matmul, linear, conv2d, attention — take their floating inputs in the low
// precision dtype and accumulate and return f32. Everything else (layer norm,
// log-determinants, losses, optimizer state) stays f32. Thread-local, like grad mode.
#pragma once
#include "framework/core/tensor.h"

namespace ft {

DType autocast_dtype();  // f32 when autocast is off

class AutocastGuard {
 public:
  explicit AutocastGuard(DType low_precision);  // f32 turns autocast off for the scope
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  DType previous_;
};

// t cast (differentiably) to the autocast dtype when autocast is on and t is a
// wider floating tensor; else t itself. With no graph recorded (NoGradGuard), the
// casts of parameters (leaves that require grad) are kept until the outermost guard
// closes, so a parameter must not change in place inside one no-grad autocast scope.
Tensor autocast_input(const Tensor& t);

}  // namespace ft
