#pragma once
#include <memory>

#include "framework/nn/linear.h"

namespace ft::nn {

// Keys and values of the tokens seen so far, for token-by-token inference.
struct KVCache {
  Tensor k, v;         // [B, H, capacity, D]
  int64_t length = 0;  // tokens stored
  void reset() { length = 0; }
};

// Multi-head causal self-attention with biases on qkv and the output projection.
// Token i attends to tokens 0..i.
class CausalSelfAttention : public Module {
 public:
  CausalSelfAttention(int64_t width, int64_t head_dim, Generator& gen);
  // x [B, T, width]. temperature divides the attention logits (1 = standard).
  Tensor forward(const Tensor& x, double temperature = 1.0) const;
  // Appends x_new [B, t, width] to the cache and attends over everything cached;
  // inference only (no autograd). The cache is sized on first use to capacity.
  Tensor forward_cached(const Tensor& x_new, KVCache& cache, int64_t capacity, double temperature = 1.0) const;
  int64_t heads() const { return heads_; }
  std::shared_ptr<Linear> qkv, out;

 private:
  int64_t width_, head_dim_, heads_;
};

}  // namespace ft::nn
