// RealNVP's image couplings (Dinh et al. 2017) over [N, C, H, W] with a mask b of
// image_masks.h (1 = kept, fed to the conditioner):
//   affine:   y = b*x + (1-b)*(x*exp(s) + t), s = scale[c] * tanh(raw), logabsdet = sum (1-b)*s
//   additive: y = b*x + (1-b)*(x + t)          (NICE's coupling on images)
// (raw, t) come from RealNVP's ResNet (realnvp_resnet.h) of the kept entries; scale is a
// learned per-channel factor starting at 1 (the paper's rescaled tanh). A checkerboard's
// conditioner sees b*x (every channel, the transformed entries zeroed) and gives (raw, t)
// for every channel; a channel mask's sees the kept half of the channels and gives them
// for the other half: b*x without its all-zero channels (as chrischute/real-nvp).
// The conditioner's last layer starts at zero, so a new coupling is the identity. No context.
#pragma once
#include <memory>

#include "layers/flows/coupling.h"
#include "layers/flows/image_masks.h"
#include "layers/flows/realnvp_resnet.h"

namespace ft::layers::flows {

struct ImageCouplingOptions {
  ImageMask mask = ImageMask::checkerboard;
  int parity = 0;  // which of the mask's two complementary patterns (image_masks.h)
  CouplingKind kind = CouplingKind::affine;  // affine or additive
  int64_t features = 64;   // feature maps of the ResNet
  int64_t res_blocks = 8;  // its residual blocks
};

class ImageCouplingTransform : public Transform {
 public:
  // image: [C, H, W] of the inputs.
  ImageCouplingTransform(const Shape& image, const ImageCouplingOptions& options, Generator& gen);
  TransformResult forward(const Tensor& x, const Tensor& context) override;
  TransformResult inverse(const Tensor& y, const Tensor& context) override;
  std::shared_ptr<RealNvpResNet> conditioner;
  Tensor scale;  // [transformed channels], affine only

 private:
  struct Parts {
    Tensor kept;         // the conditioner's input
    Tensor transformed;  // what the coupling changes
  };
  struct ScaleShift {
    Tensor log_scale, shift;  // log_scale undefined for additive
  };
  Parts split(const Tensor& x) const;
  Tensor merge(const Parts& parts, const Tensor& changed) const;
  ScaleShift scale_and_shift(const Tensor& kept) const;
  TransformResult couple(const Tensor& input, const Tensor& context, bool inverse) const;
  ImageCouplingOptions options_;
  Shape image_;
  Tensor kept_mask_, transformed_mask_;  // checkerboard only, [1, C, H, W]
};

}  // namespace ft::layers::flows
