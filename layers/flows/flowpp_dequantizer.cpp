#include "layers/flows/flowpp_dequantizer.h"

#include <string>

#include "framework/ops/ops.h"
#include "layers/flows/flow_layer_transform.h"
#include "layers/glow/actnorm.h"
#include "layers/glow/invertible_conv.h"
#include "layers/likelihood.h"

namespace ft::layers::flows {

FlowppContextEncoder::FlowppContextEncoder(int64_t channels, int64_t context_channels, int64_t blocks_count,
                                           Generator& gen) {
  project = register_module("project", std::make_shared<nn::Conv2d>(channels, context_channels, 3, true, gen));
  for (int64_t b = 0; b < blocks_count; ++b)
    blocks.push_back(
        register_module("blocks." + std::to_string(b), std::make_shared<GatedConv>(context_channels, 0, 3, gen)));
}

Tensor FlowppContextEncoder::forward(const Tensor& pixels) const {
  Tensor h = project->forward(add(mul(pixels, 1.0 / 256.0), -0.5));
  for (const auto& block : blocks) h = block->forward(h, Tensor());
  return h;
}

VariationalDequantizer::VariationalDequantizer(int64_t channels, int64_t height, int64_t width,
                                               const FlowppDequantizerOptions& options, Generator& gen)
    : channels_(channels), height_(height), width_(width) {
  FT_CHECK(options.couplings >= 1 && options.context_channels >= 1 && options.context_blocks >= 0,
           "a variational dequantizer needs couplings >= 1 and context channels >= 1, got {} and {}",
           options.couplings, options.context_channels);
  encoder_ = register_module("context_encoder", std::make_shared<FlowppContextEncoder>(
                                                    channels, options.context_channels, options.context_blocks, gen));
  FlowppCouplingOptions coupling = options.coupling;
  coupling.context_channels = options.context_channels;
  auto add_step = [&](std::shared_ptr<Transform> t, bool conditional) {
    register_module("steps." + std::to_string(steps_.size()), t);
    steps_.push_back({std::move(t), conditional});
  };
  for (int64_t i = 0; i < options.couplings; ++i) {
    add_step(std::make_shared<FlowLayerTransform>(std::make_shared<ActNorm>(channels)), false);
    add_step(std::make_shared<FlowLayerTransform>(
                 std::make_shared<InvertibleConv1x1>(channels, options.permutation, gen)),
             false);
    add_step(std::make_shared<FlowppCoupling>(ImageMask::checkerboard, int(i % 2), channels, height, width,
                                              coupling, gen),
             true);
  }
}

DequantizationSample VariationalDequantizer::sample(const Tensor& x, Generator& gen) {
  Tensor eps = normal_per_example(x.size(0), {channels_, height_, width_}, gen, x.dtype()).to(x.device());
  return from_noise(x, eps);
}

DequantizationSample VariationalDequantizer::from_noise(const Tensor& x, const Tensor& eps) {
  FT_CHECK(x.dim() == 4 && x.size(1) == channels_ && x.size(2) == height_ && x.size(3) == width_,
           "a dequantizer of [N, {}, {}, {}] got pixels {}", channels_, height_, width_, shape_str(x.shape()));
  FT_CHECK(eps.shape() == x.shape(), "dequantization noise {} for pixels {}", shape_str(eps.shape()),
           shape_str(x.shape()));
  Tensor features = encoder_->forward(x);
  Tensor v = eps;
  Tensor logdet = Tensor::zeros({x.size(0)}, eps.dtype(), eps.device());
  for (const Step& step : steps_) {
    TransformResult r = step.transform->forward(v, step.conditional ? features : Tensor());
    v = r.y;
    logdet = add(logdet, r.logabsdet);
  }
  // log sigmoid'(v) = log sigmoid(v) + log sigmoid(-v).
  Tensor sigmoid_logdet = sum_except_batch(add(log_sigmoid(v), log_sigmoid(neg(v))));
  Tensor log_q = sub(gaussian_log_prob(eps, Tensor(), Tensor()), add(logdet, sigmoid_logdet));
  return {sigmoid(v), log_q};
}

}  // namespace ft::layers::flows
