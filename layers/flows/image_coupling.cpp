#include "layers/flows/image_coupling.h"

#include "framework/ops/ops.h"

namespace ft::layers::flows {

ImageCouplingTransform::ImageCouplingTransform(const Shape& image, const ImageCouplingOptions& options, Generator& gen)
    : options_(options), image_(image) {
  FT_CHECK(image.size() == 3, "an image coupling needs an image shape [C, H, W], got {}", shape_str(image));
  FT_CHECK(options.kind != CouplingKind::rational_quadratic,
           "an image coupling is affine or additive, not rational-quadratic");
  int64_t channels = image[0];
  // Built for its shape checks even where only its parity is used (channel masks).
  Tensor mask = image_mask(options.mask, options.parity, channels, image[1], image[2]);
  int64_t conditioned = channels, transformed = channels;
  if (options.mask == ImageMask::checkerboard) {
    kept_mask_ = mask;
    transformed_mask_ = add(neg(mask), 1.0);
    register_constant("kept_mask", &kept_mask_);
    register_constant("transformed_mask", &transformed_mask_);
  } else {
    conditioned = transformed = channels / 2;
  }
  int64_t per_channel = options.kind == CouplingKind::affine ? 2 : 1;
  conditioner = register_module("conditioner", std::make_shared<RealNvpResNet>(conditioned, options.features,
                                                                                per_channel * transformed,
                                                                                options.res_blocks, gen));
  if (options.kind == CouplingKind::affine) {
    scale = Tensor::ones({transformed});
    register_parameter("scale", &scale);
  }
}

ImageCouplingTransform::Parts ImageCouplingTransform::split(const Tensor& x) const {
  if (options_.mask == ImageMask::checkerboard) return {mul(x, kept_mask_.to(x.dtype())), x};
  auto halves = chunk(x, 2, 1);
  return options_.parity == 0 ? Parts{halves[0], halves[1]} : Parts{halves[1], halves[0]};
}

// The checkerboard's s and t are zero on the kept entries, so `changed` already holds them.
Tensor ImageCouplingTransform::merge(const Parts& parts, const Tensor& changed) const {
  if (options_.mask == ImageMask::checkerboard) return changed;
  return options_.parity == 0 ? concat({parts.kept, changed}, 1) : concat({changed, parts.kept}, 1);
}

ImageCouplingTransform::ScaleShift ImageCouplingTransform::scale_and_shift(const Tensor& kept) const {
  Tensor h = conditioner->forward(kept);
  ScaleShift p{Tensor(), h};
  if (options_.kind == CouplingKind::affine) {
    auto halves = chunk(h, 2, 1);
    p = {mul(tanh(halves[0]), scale.to(h.dtype()).reshape({1, -1, 1, 1})), halves[1]};
  }
  if (options_.mask == ImageMask::checkerboard) {
    Tensor transformed = transformed_mask_.to(h.dtype());
    p.shift = mul(p.shift, transformed);
    if (p.log_scale.defined()) p.log_scale = mul(p.log_scale, transformed);
  }
  return p;
}

TransformResult ImageCouplingTransform::couple(const Tensor& input, const Tensor& context, bool inverse) const {
  FT_CHECK(input.dim() == 4 && Shape(input.shape().begin() + 1, input.shape().end()) == image_,
           "an image coupling over [N, {}, {}, {}] got input {}", image_[0], image_[1], image_[2],
           shape_str(input.shape()));
  check_context(context, 0, input);
  Parts parts = split(input);
  ScaleShift p = scale_and_shift(parts.kept);
  if (!p.log_scale.defined()) {
    Tensor changed = inverse ? sub(parts.transformed, p.shift) : add(parts.transformed, p.shift);
    return {merge(parts, changed), Tensor::zeros({input.size(0)}, input.dtype(), input.device())};
  }
  if (inverse)
    return {merge(parts, mul(sub(parts.transformed, p.shift), exp(neg(p.log_scale)))),
            neg(sum_except_batch(p.log_scale))};
  return {merge(parts, add(mul(parts.transformed, exp(p.log_scale)), p.shift)), sum_except_batch(p.log_scale)};
}

TransformResult ImageCouplingTransform::forward(const Tensor& x, const Tensor& context) {
  return couple(x, context, false);
}

TransformResult ImageCouplingTransform::inverse(const Tensor& y, const Tensor& context) {
  return couple(y, context, true);
}

}  // namespace ft::layers::flows
