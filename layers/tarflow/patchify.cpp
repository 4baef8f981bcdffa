#include "layers/tarflow/patchify.h"

namespace ft::layers {

Tensor patchify(const Tensor& x, int64_t patch_size) {
  FT_CHECK(x.dim() == 4, "patchify expects [N, C, H, W], got {}", shape_str(x.shape()));
  int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3), p = patch_size;
  FT_CHECK(p > 0 && h % p == 0 && w % p == 0, "patch size {} does not divide the image {}x{}", p, h, w);
  // [N, C, H/P, P, W/P, P] -> [N, H/P, W/P, C, P, P]
  return x.reshape({n, c, h / p, p, w / p, p})
      .permute({0, 2, 4, 1, 3, 5})
      .reshape({n, (h / p) * (w / p), c * p * p});
}

Tensor unpatchify(const Tensor& tokens, int64_t channels, int64_t image_size, int64_t patch_size) {
  int64_t p = patch_size, g = image_size / patch_size;
  FT_CHECK(tokens.dim() == 3 && tokens.size(1) == g * g && tokens.size(2) == channels * p * p,
           "unpatchify of {} into [{}, {}, {}] with patch {}", shape_str(tokens.shape()), channels, image_size,
           image_size, p);
  int64_t n = tokens.size(0);
  // [N, H/P, W/P, C, P, P] -> [N, C, H/P, P, W/P, P]
  return tokens.reshape({n, g, g, channels, p, p})
      .permute({0, 3, 1, 4, 2, 5})
      .reshape({n, channels, image_size, image_size});
}

}  // namespace ft::layers
