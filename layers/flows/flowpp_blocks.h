// The blocks of Flow++'s coupling networks (Ho et al. 2019, section 3.3;
// aravindsrinivas/flowpp flows.py: gated_conv, gated_attn, MixLogisticAttnCoupling),
// over NCHW images; dropout is left out (the paper's CIFAR-10 run used 0.2).
//   concat_elu(x) = elu([x, -x]) over channels (doubles them)
//   gate(h)       = a * sigmoid(b) for the channel halves (a, b) of h (halves them)
//   GatedConv:      x + gate(second(concat_elu(conv3x3(concat_elu(x)) [+ conv1x1(concat_elu(context))])))
//                   with `second` a 1x1 (the couplings) or 3x3 (the dequantizer's context encoder) conv
//   GatedSelfAttention: x + gate(conv1x1(attention(conv1x1(x + pos_emb)))), multi-head,
//                   every position attends to every position, scale 1/sqrt(head dim)
//   ConvAttnBlock:  GatedConv -> LayerNorm -> GatedSelfAttention -> LayerNorm, layer norm
//                   over the channels of each position
#pragma once
#include <memory>

#include "framework/nn/conv2d.h"
#include "framework/nn/layer_norm.h"

namespace ft::layers::flows {

Tensor concat_elu(const Tensor& x);
Tensor gate(const Tensor& x);
// LayerNorm of the channels at each position of x [N, C, H, W].
Tensor channel_layer_norm(const nn::LayerNorm& norm, const Tensor& x);

class GatedConv : public nn::Module {
 public:
  // context_channels 0: no context; second_kernel 1 or 3.
  GatedConv(int64_t channels, int64_t context_channels, int64_t second_kernel, Generator& gen);
  Tensor forward(const Tensor& x, const Tensor& context) const;  // context [N, context_channels, H, W] or undefined
  std::shared_ptr<nn::Conv2d> first, context_projection, second;
};

class GatedSelfAttention : public nn::Module {
 public:
  GatedSelfAttention(int64_t channels, int64_t heads, Generator& gen);
  // position_embedding [1, C, H, W] is added to the queries', keys' and values' input.
  Tensor forward(const Tensor& x, const Tensor& position_embedding) const;
  std::shared_ptr<nn::Conv2d> qkv, out;

 private:
  int64_t heads_;
};

class ConvAttnBlock : public nn::Module {
 public:
  ConvAttnBlock(int64_t channels, int64_t heads, int64_t context_channels, Generator& gen);
  Tensor forward(const Tensor& x, const Tensor& position_embedding, const Tensor& context) const;
  std::shared_ptr<GatedConv> conv;
  std::shared_ptr<nn::LayerNorm> conv_norm;
  std::shared_ptr<GatedSelfAttention> attention;
  std::shared_ptr<nn::LayerNorm> attention_norm;
};

}  // namespace ft::layers::flows
