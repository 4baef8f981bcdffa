#include "layers/flows/flowpp_coupling.h"

#include "framework/ops/ops.h"

namespace ft::layers::flows {

namespace {

// Channels per position whose entries the coupling transforms.
int64_t transformed_channels(ImageMask kind, int64_t channels) {
  return kind == ImageMask::channel ? channels / 2 : channels;
}

}  // namespace

FlowppCoupling::FlowppCoupling(ImageMask mask, int parity, int64_t channels, int64_t height, int64_t width,
                               const FlowppCouplingOptions& options, Generator& gen)
    : kind_(mask),
      parity_(parity),
      channels_(channels),
      height_(height),
      width_(width),
      components_(options.components),
      context_channels_(options.context_channels) {
  FT_CHECK(options.components >= 1, "a logistic mixture coupling needs at least 1 component, got {}",
           options.components);
  mask_ = image_mask(mask, parity, channels, height, width);
  register_constant("mask", &mask_);
  FlowppNetworkShape shape;
  shape.in_channels = 2 * channels;
  shape.out_channels = transformed_channels(mask, channels) * flowpp_parameters_per_entry(options.components);
  shape.height = height;
  shape.width = width;
  shape.filters = options.filters;
  shape.blocks = options.blocks;
  shape.heads = options.heads;
  shape.context_channels = options.context_channels;
  conditioner = register_module("conditioner", std::make_shared<FlowppConditioner>(shape, gen));
}

void FlowppCoupling::check_shapes(const Tensor& x, const Tensor& context) const {
  FT_CHECK(x.dim() == 4 && x.size(1) == channels_ && x.size(2) == height_ && x.size(3) == width_,
           "a Flow++ coupling of [N, {}, {}, {}] got input {}", channels_, height_, width_, shape_str(x.shape()));
  if (context_channels_ == 0) {
    check_context(context, 0, x);
    return;
  }
  FT_CHECK(context.defined() && context.dim() == 4 && context.size(0) == x.size(0) &&
               context.size(1) == context_channels_ && context.size(2) == height_ && context.size(3) == width_,
           "a conditional Flow++ coupling needs a context of [{}, {}, {}, {}], got {}", x.size(0), context_channels_,
           height_, width_, context.defined() ? shape_str(context.shape()) : "none");
}

LogisticMixtureCoupling FlowppCoupling::parameters(const Tensor& input, const Tensor& context) const {
  Tensor mask = mask_.to(input.dtype()).to(input.device());
  int64_t n = input.size(0);
  Tensor network_input = concat({mul(input, mask), mask.expand({n, channels_, height_, width_})}, 1);
  int64_t per_entry = flowpp_parameters_per_entry(components_);
  // [N, T * P, H, W] -> [N, T, H, W, P]: parameters last, for the mixture's [..., K].
  Tensor p = conditioner->forward(network_input, context)
                 .reshape({n, transformed_channels(kind_, channels_), per_entry, height_, width_})
                 .permute({0, 1, 3, 4, 2})
                 .contiguous();
  int64_t k = components_;
  return {tanh(p.select(4, 0)),
          p.select(4, 1),
          {p.slice(4, 2, 2 + k), p.slice(4, 2 + k, 2 + 2 * k), p.slice(4, 2 + 2 * k, 2 + 3 * k)}};
}

Tensor FlowppCoupling::transformed_part(const Tensor& x) const {
  if (kind_ == ImageMask::checkerboard) return x;
  int64_t half = channels_ / 2, start = parity_ == 0 ? half : 0;
  return x.slice(1, start, start + half);
}

Tensor FlowppCoupling::merge(const Tensor& input, const Tensor& transformed) const {
  if (kind_ == ImageMask::channel) {
    int64_t half = channels_ / 2;
    return parity_ == 0 ? concat({input.slice(1, 0, half), transformed}, 1)
                        : concat({transformed, input.slice(1, half, channels_)}, 1);
  }
  // Kept entries: input * 1 + finite * 0, exactly the input.
  Tensor mask = mask_.to(input.dtype()).to(input.device());
  return add(mul(input, mask), mul(transformed, add(neg(mask), 1.0)));
}

Tensor FlowppCoupling::sum_transformed(const Tensor& per_element) const {
  if (kind_ == ImageMask::channel) return sum_except_batch(per_element);
  Tensor mask = mask_.to(per_element.dtype()).to(per_element.device());
  return sum_except_batch(mul(per_element, add(neg(mask), 1.0)));
}

TransformResult FlowppCoupling::apply(const Tensor& input, const Tensor& context, bool inverse) {
  check_shapes(input, context);
  LogisticMixtureCoupling p = parameters(input, context);
  ElementwiseResult r = logistic_mixture_coupling(transformed_part(input), p, inverse);
  return {merge(input, r.y), sum_transformed(r.logabsdet)};
}

TransformResult FlowppCoupling::forward(const Tensor& x, const Tensor& context) { return apply(x, context, false); }

TransformResult FlowppCoupling::inverse(const Tensor& y, const Tensor& context) { return apply(y, context, true); }

}  // namespace ft::layers::flows
