// Global-norm gradient clipping (torch.nn.utils.clip_grad_norm_) and finiteness checks
// over flat f32 ranges. The trainer sums squared_norm over its range, all-reduces
// the sum when gradients are sharded, then takes the square root.
#pragma once
#include <cstdint>

namespace ft::optim {

// Sum of squares with f64 accumulation. Partial sums are taken over fixed blocks and
// added in block order, so the result does not depend on the thread count.
double squared_norm(const float* values, int64_t n);
// max_norm <= 0 disables clipping (returns 1). Else min(1, max_norm / (total_norm + 1e-6))
// as torch.nn.utils.clip_grad_norm_.
double clip_coefficient(double total_norm, double max_norm);
void scale_in_place(float* values, int64_t n, double factor);
bool all_finite(const float* values, int64_t n);

}  // namespace ft::optim
