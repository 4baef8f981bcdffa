#include "layers/flows/flowpp_blocks.h"

#include <cmath>

#include "framework/ops/ops.h"

namespace ft::layers::flows {

namespace {

// elu(v) = v for v > 0, exp(v) - 1 otherwise, from the ops there are (min(v, 0) = -relu(-v)).
Tensor elu(const Tensor& v) { return add(add(relu(v), exp(neg(relu(neg(v))))), -1.0); }

}  // namespace

Tensor concat_elu(const Tensor& x) { return elu(concat({x, neg(x)}, 1)); }

Tensor gate(const Tensor& x) {
  std::vector<Tensor> halves = chunk(x, 2, 1);
  return mul(halves[0], sigmoid(halves[1]));
}

Tensor channel_layer_norm(const nn::LayerNorm& norm, const Tensor& x) {
  return norm.forward(x.permute({0, 2, 3, 1}).contiguous()).permute({0, 3, 1, 2}).contiguous();
}

GatedConv::GatedConv(int64_t channels, int64_t context_channels, int64_t second_kernel, Generator& gen) {
  FT_CHECK(second_kernel == 1 || second_kernel == 3, "a gated conv's second kernel is 1 or 3, got {}", second_kernel);
  first = register_module("first", std::make_shared<nn::Conv2d>(2 * channels, channels, 3, true, gen));
  if (context_channels > 0)
    context_projection = register_module(
        "context_projection", std::make_shared<nn::Conv2d>(2 * context_channels, channels, 1, true, gen));
  second =
      register_module("second", std::make_shared<nn::Conv2d>(2 * channels, 2 * channels, second_kernel, true, gen));
}

Tensor GatedConv::forward(const Tensor& x, const Tensor& context) const {
  FT_CHECK(context.defined() == (context_projection != nullptr), "a gated conv {} context got {}",
           context_projection ? "with" : "without", context.defined() ? shape_str(context.shape()) : "none");
  Tensor h = first->forward(concat_elu(x));
  if (context_projection) h = add(h, context_projection->forward(concat_elu(context)));
  return add(x, gate(second->forward(concat_elu(h))));
}

GatedSelfAttention::GatedSelfAttention(int64_t channels, int64_t heads, Generator& gen) : heads_(heads) {
  FT_CHECK(heads > 0 && channels % heads == 0, "self-attention over {} channels cannot have {} heads", channels,
           heads);
  qkv = register_module("qkv", std::make_shared<nn::Conv2d>(channels, 3 * channels, 1, true, gen));
  out = register_module("out", std::make_shared<nn::Conv2d>(channels, 2 * channels, 1, true, gen));
}

Tensor GatedSelfAttention::forward(const Tensor& x, const Tensor& position_embedding) const {
  int64_t n = x.size(0), channels = x.size(1), height = x.size(2), width = x.size(3);
  int64_t positions = height * width, head_dim = channels / heads_;
  // Channel index of q, k, v: (which, head, d), as the reference's [.., 3, heads, dim].
  Tensor qkv_bhtd = qkv->forward(add(x, position_embedding))
                        .reshape({n, 3, heads_, head_dim, positions})
                        .permute({1, 0, 2, 4, 3});
  Tensor q = qkv_bhtd.select(0, 0).contiguous(), k = qkv_bhtd.select(0, 1).contiguous(),
         v = qkv_bhtd.select(0, 2).contiguous();
  Tensor weights = softmax(mul(matmul(q, k.transpose(2, 3)), 1.0 / std::sqrt(double(head_dim))), -1);
  Tensor attended = matmul(weights, v).permute({0, 1, 3, 2}).reshape({n, channels, height, width});
  return add(x, gate(out->forward(attended)));
}

ConvAttnBlock::ConvAttnBlock(int64_t channels, int64_t heads, int64_t context_channels, Generator& gen) {
  conv = register_module("conv", std::make_shared<GatedConv>(channels, context_channels, 1, gen));
  conv_norm = register_module("conv_norm", std::make_shared<nn::LayerNorm>(channels));
  attention = register_module("attention", std::make_shared<GatedSelfAttention>(channels, heads, gen));
  attention_norm = register_module("attention_norm", std::make_shared<nn::LayerNorm>(channels));
}

Tensor ConvAttnBlock::forward(const Tensor& x, const Tensor& position_embedding, const Tensor& context) const {
  Tensor h = channel_layer_norm(*conv_norm, conv->forward(x, context));
  return channel_layer_norm(*attention_norm, attention->forward(h, position_embedding));
}

}  // namespace ft::layers::flows
