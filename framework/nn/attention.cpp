#include "framework/nn/attention.h"

#include <cmath>

#include "framework/autograd/grad_mode.h"
#include "framework/kernels/kernels.h"
#include "framework/ops/ops.h"

namespace ft::nn {

CausalSelfAttention::CausalSelfAttention(int64_t width, int64_t head_dim, Generator& gen)
    : width_(width), head_dim_(head_dim), heads_(width / head_dim) {
  FT_CHECK(head_dim > 0 && width % head_dim == 0, "attention width {} is not a multiple of head dim {}", width,
           head_dim);
  qkv = register_module("qkv", std::make_shared<Linear>(width, 3 * width, true, gen));
  out = register_module("out", std::make_shared<Linear>(width, width, true, gen));
}

Tensor CausalSelfAttention::forward(const Tensor& x, double temperature) const {
  FT_CHECK(x.dim() == 3 && x.size(2) == width_, "attention input {} (expected [B, T, {}])", shape_str(x.shape()),
           width_);
  int64_t b = x.size(0), t = x.size(1);
  // [B, T, 3*W] -> [B, T, 3, H, D], read in place by the attention kernels
  Tensor packed = qkv->forward(x).reshape({b, t, 3, heads_, head_dim_});
  double scale = 1.0 / (std::sqrt(double(head_dim_)) * temperature);
  Tensor y = causal_attention_packed(packed, scale);
  return out->forward(y.permute({0, 2, 1, 3}).reshape({b, t, width_}));
}

Tensor CausalSelfAttention::forward_cached(const Tensor& x_new, KVCache& cache, int64_t capacity,
                                           double temperature) const {
  NoGradGuard no_grad;
  FT_CHECK(x_new.dim() == 3 && x_new.size(2) == width_, "attention input {} (expected [B, t, {}])",
           shape_str(x_new.shape()), width_);
  int64_t b = x_new.size(0), t = x_new.size(1);
  if (!cache.k.defined() || cache.k.size(0) != b || cache.k.size(2) != capacity) {
    cache.k = Tensor::zeros({b, heads_, capacity, head_dim_}, x_new.dtype(), x_new.device());
    cache.v = Tensor::zeros({b, heads_, capacity, head_dim_}, x_new.dtype(), x_new.device());
    cache.length = 0;
  }
  FT_CHECK(cache.length + t <= capacity, "KV cache holds {} tokens; {} more do not fit", capacity, t);
  Tensor qkv_heads = qkv->forward(x_new).reshape({b, t, 3, heads_, head_dim_}).permute({2, 0, 3, 1, 4});
  Tensor k_slot = cache.k.slice(2, cache.length, cache.length + t);
  Tensor v_slot = cache.v.slice(2, cache.length, cache.length + t);
  k_slot.copy_(qkv_heads.select(0, 1));
  v_slot.copy_(qkv_heads.select(0, 2));
  double scale = 1.0 / (std::sqrt(double(head_dim_)) * temperature);
  Tensor y = kernels::cached_attention(qkv_heads.select(0, 0), cache.k, cache.v, cache.length, scale);
  cache.length += t;
  return out->forward(y.permute({0, 2, 1, 3}).reshape({b, t, width_}));
}

}  // namespace ft::nn
