// Arithmetic on ODE states (lists of tensors) with ops, so that it is differentiable
// under grad mode and runs on the state's device.
#pragma once
#include <vector>

#include "framework/ode/ode.h"

namespace ft::ode::detail {

// h * sum_j weights[j] * slopes[j], tensor by tensor; zero weights are skipped (at
// least one must not be).
State weighted_slopes(double h, const std::vector<double>& weights, const std::vector<const State*>& slopes);
// y + weighted_slopes(...): the increment summed first, as torchdiffeq does.
State add_weighted_slopes(const State& y, double h, const std::vector<double>& weights,
                          const std::vector<const State*>& slopes);

// torchdiffeq's mixed norm: the largest over the tensors of each tensor's root mean
// square, computed detached in f64 (a step-size decision, not part of any graph).
// Not finite when any element is not.
double mixed_rms_norm(const State& x);

// The mixed norm of error / (atol + rtol * max(|y_old|, |y_new|)), dopri5's error ratio.
double error_ratio(const State& error, const State& y_old, const State& y_new, double atol, double rtol);

// Whether every element of every tensor is finite (one reduction per tensor).
bool all_finite(const State& x);

}  // namespace ft::ode::detail
