// Flow++'s variational dequantization (Ho et al. 2019, section 3.1; aravindsrinivas/flowpp
// run_cifar.py Dequant): a conditional flow q(u | x) over u in (0, 1)^D,
//     eps ~ N(0, I) -> couplings x (ActNorm, 1x1 conv, Flow++ coupling with checkerboard
//     masks of alternating parity, conditioned on features of x) -> v -> u = sigmoid(v),
//     log q(u | x) = log N(eps) - sum log|dv/deps| - sum log sigmoid'(v),
// the features being a conv3x3 of x / 256 - 0.5 to context_channels followed by gated
// convs (3x3 second conv, as the reference's shallow processor).
//
// How a caller trains with it (x: integer pixel values in [0, 255], [N, C, H, W]):
//     auto [u, log_q] = dequantizer.sample(x, gen);
//     Tensor elbo = model_log_prob(x + u) - log_q;   // <= log P(x), per example
//     loss = -mean(elbo) / (D ln 2)                   // bits per dimension (pixel units)
// and optimises the model and the dequantizer together; evaluation estimates log P(x)
// the same way (or by importance sampling over several u).
#pragma once
#include <memory>
#include <vector>

#include "layers/flows/flowpp_coupling.h"
#include "layers/glow/glow_config.h"

namespace ft::layers::flows {

struct FlowppDequantizerOptions {
  int64_t couplings = 4;
  int64_t context_channels = 32, context_blocks = 3;
  FlowppCouplingOptions coupling{96, 2, 4, 32, 0};  // filters, blocks, heads, components (context set here)
  Permutation permutation = Permutation::plain;
};

// The features of x the dequantizer's couplings are conditioned on.
class FlowppContextEncoder : public nn::Module {
 public:
  FlowppContextEncoder(int64_t channels, int64_t context_channels, int64_t blocks, Generator& gen);
  Tensor forward(const Tensor& pixels) const;  // [N, C, H, W] in [0, 255] -> [N, context_channels, H, W]
  std::shared_ptr<nn::Conv2d> project;
  std::vector<std::shared_ptr<GatedConv>> blocks;
};

struct DequantizationSample {
  Tensor u;      // [N, C, H, W] in (0, 1)
  Tensor log_q;  // [N], log q(u | x)
};

class VariationalDequantizer : public nn::Module {
 public:
  VariationalDequantizer(int64_t channels, int64_t height, int64_t width, const FlowppDequantizerOptions& options,
                         Generator& gen);
  // u ~ q(u | x) with eps drawn from gen in x's dtype, and its exact log-density; gen's
  // offset is the index of the first example (framework normal_per_example), so an
  // example's u does not depend on the batch it is in.
  DequantizationSample sample(const Tensor& x, Generator& gen);
  // The same for given noise eps [N, C, H, W] (deterministic).
  DequantizationSample from_noise(const Tensor& x, const Tensor& eps);

 private:
  struct Step {
    std::shared_ptr<Transform> transform;
    bool conditional;  // takes the features of x as context
  };
  std::shared_ptr<FlowppContextEncoder> encoder_;
  std::vector<Step> steps_;
  int64_t channels_, height_, width_;
};

}  // namespace ft::layers::flows
