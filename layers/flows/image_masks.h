// Binary masks of the image couplings over [N, C, H, W] (Dinh et al. 2017, RealNVP):
// a coupling keeps the entries where the mask is 1 (they feed the conditioner) and
// transforms the entries where it is 0. Both kinds come in two parities so that
// alternating layers transform every entry.
//   checkerboard: 1 where (h + w + parity) is even, the same in every channel
//   channel:      1 on the first half of the channels (parity 0) or the second (parity 1)
#pragma once
#include <string>

#include "framework/core/tensor.h"

namespace ft::layers::flows {

enum class ImageMask { checkerboard, channel };

ImageMask image_mask_from_name(const std::string& name);  // "checkerboard" | "channel"
const char* image_mask_name(ImageMask kind);

// f32 [1, C, H, W] of 0s and 1s. Throws naming the shape when the mask cannot split
// it: a channel mask needs an even C, a checkerboard an image with more than one pixel.
Tensor image_mask(ImageMask kind, int parity, int64_t channels, int64_t height, int64_t width);

}  // namespace ft::layers::flows
