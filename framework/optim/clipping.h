// Global-norm gradient clipping (torch.nn.utils.clip_grad_norm_). The trainer takes
// kernels::squared_norm over its range of the gradient arena, all-reduces the sum when
// gradients are sharded, takes the square root, and scales by this coefficient with
// kernels::scale_inplace.
#pragma once

namespace ft::optim {

// max_norm <= 0 disables clipping (returns 1). Else min(1, max_norm / (total_norm + 1e-6))
// as torch.nn.utils.clip_grad_norm_.
double clip_coefficient(double total_norm, double max_norm);

}  // namespace ft::optim
