// Images <-> token sequences, as torch.nn.functional.unfold / fold with
// kernel = stride = P in apple/ml-tarflow: tokens run over patches in raster
// order, and a token's features are channel-major within its patch (c, dy, dx).
#pragma once
#include "framework/core/tensor.h"

namespace ft::layers {

// [N, C, H, W] -> [N, (H/P)*(W/P), C*P*P]. Differentiable.
Tensor patchify(const Tensor& x, int64_t patch_size);
// [N, T, C*P*P] -> [N, C, H, W] for a square H = W = image_size. Differentiable.
Tensor unpatchify(const Tensor& tokens, int64_t channels, int64_t image_size, int64_t patch_size);

}  // namespace ft::layers
