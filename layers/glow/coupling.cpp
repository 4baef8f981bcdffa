#include "layers/glow/coupling.h"

#include "framework/ops/ops.h"

namespace ft::layers {

std::pair<Tensor, Tensor> interleaved_halves(const Tensor& h) {
  Tensor pairs = h.reshape({h.size(0), h.size(1) / 2, 2, h.size(2), h.size(3)});
  return {pairs.select(2, 0), pairs.select(2, 1)};
}

CouplingNetwork::CouplingNetwork(int64_t in_channels, int64_t width, int64_t out_channels, Generator& gen) {
  conv1 = register_module("conv1", std::make_shared<nn::Conv2d>(in_channels, width, 3, false, gen));
  norm1 = register_module("norm1", std::make_shared<ActNorm>(width));
  conv2 = register_module("conv2", std::make_shared<nn::Conv2d>(width, width, 1, false, gen));
  norm2 = register_module("norm2", std::make_shared<ActNorm>(width));
  out = register_module("out", std::make_shared<Conv2dZeros>(width, out_channels));
}

Tensor CouplingNetwork::forward(const Tensor& x) const {
  Tensor h = relu(norm1->forward(conv1->forward(x)).y);
  h = relu(norm2->forward(conv2->forward(h)).y);
  return out->forward(h);
}

CouplingLayer::CouplingLayer(int64_t channels, int64_t width, Coupling type, Generator& gen)
    : type_(type), channels_(channels) {
  FT_CHECK(channels % 2 == 0, "coupling needs an even channel count, got {}", channels);
  int64_t out = type == Coupling::affine ? channels : channels / 2;
  network = register_module("network", std::make_shared<CouplingNetwork>(channels / 2, width, out, gen));
}

FlowResult CouplingLayer::forward(const Tensor& x) {
  auto halves = chunk(x, 2, 1);
  Tensor h = network->forward(halves[0]);
  if (type_ == Coupling::additive)
    return {concat({halves[0], add(halves[1], h)}, 1), Tensor::zeros({x.size(0)}, x.dtype(), x.device())};
  auto [shift, raw_scale] = interleaved_halves(h);
  Tensor pre = add(raw_scale, 2.0);
  Tensor yb = mul(add(halves[1], shift), sigmoid(pre));
  Tensor logdet = sum(log_sigmoid(pre), {1, 2, 3});
  return {concat({halves[0], yb}, 1), logdet};
}

Tensor CouplingLayer::inverse(const Tensor& y) { return inverse_with_logdet(y).y; }

FlowResult CouplingLayer::inverse_with_logdet(const Tensor& y) {
  auto halves = chunk(y, 2, 1);
  Tensor h = network->forward(halves[0]);
  if (type_ == Coupling::additive)
    return {concat({halves[0], sub(halves[1], h)}, 1), Tensor::zeros({y.size(0)}, y.dtype(), y.device())};
  auto [shift, raw_scale] = interleaved_halves(h);
  Tensor pre = add(raw_scale, 2.0);
  Tensor xb = sub(div(halves[1], sigmoid(pre)), shift);
  return {concat({halves[0], xb}, 1), neg(sum(log_sigmoid(pre), {1, 2, 3}))};
}

}  // namespace ft::layers
