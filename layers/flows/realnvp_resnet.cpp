#include "layers/flows/realnvp_resnet.h"

#include <fmt/core.h>

#include "framework/ops/ops.h"

namespace ft::layers::flows {

namespace {

// The batch norm layer's output; its log-determinant is no concern of a conditioner.
Tensor normalise(BatchNormTransform& norm, const Tensor& x) { return norm.forward(x, Tensor()).y; }

}  // namespace

RealNvpResidualBlock::RealNvpResidualBlock(int64_t features, Generator& gen) {
  in_norm = register_module("in_norm", std::make_shared<BatchNormTransform>(features));
  in_conv = register_module("in_conv", std::make_shared<nn::WeightNormConv2d>(features, features, 3, false, gen));
  out_norm = register_module("out_norm", std::make_shared<BatchNormTransform>(features));
  out_conv = register_module("out_conv", std::make_shared<nn::WeightNormConv2d>(features, features, 3, true, gen));
}

Tensor RealNvpResidualBlock::forward(const Tensor& x) const {
  Tensor h = in_conv->forward(relu(normalise(*in_norm, x)));
  h = out_conv->forward(relu(normalise(*out_norm, h)));
  return add(h, x);
}

RealNvpResNet::RealNvpResNet(int64_t in_channels, int64_t features, int64_t out_channels, int64_t res_blocks,
                             Generator& gen) {
  FT_CHECK(res_blocks >= 0, "a RealNVP ResNet needs a non-negative number of residual blocks, got {}", res_blocks);
  in_norm = register_module("in_norm", std::make_shared<BatchNormTransform>(in_channels));
  in_conv = register_module("in_conv", std::make_shared<nn::WeightNormConv2d>(2 * in_channels, features, 3, true, gen));
  in_skip = register_module("in_skip", std::make_shared<nn::WeightNormConv2d>(features, features, 1, true, gen));
  for (int64_t i = 0; i < res_blocks; ++i) {
    blocks.push_back(
        register_module(fmt::format("blocks.{}", i), std::make_shared<RealNvpResidualBlock>(features, gen)));
    skips.push_back(register_module(fmt::format("skips.{}", i),
                                    std::make_shared<nn::WeightNormConv2d>(features, features, 1, true, gen)));
  }
  out_norm = register_module("out_norm", std::make_shared<BatchNormTransform>(features));
  out_conv = register_module("out_conv", std::make_shared<nn::WeightNormConv2d>(features, out_channels, 1, true, gen,
                                                                                nn::Init::zeros));
}

Tensor RealNvpResNet::forward(const Tensor& x) const {
  Tensor h = normalise(*in_norm, x);
  h = in_conv->forward(relu(concat({h, neg(h)}, 1)));
  Tensor skip_sum = in_skip->forward(h);
  for (size_t i = 0; i < blocks.size(); ++i) {
    h = blocks[i]->forward(h);
    skip_sum = add(skip_sum, skips[i]->forward(h));
  }
  return out_conv->forward(relu(normalise(*out_norm, skip_sum)));
}

}  // namespace ft::layers::flows
