// One TARFLOW flow block (apple/ml-tarflow's MetaBlock): an autoregressive affine
// flow over a token sequence whose shift and log-scale come from a causal
// transformer. In the block's token order (identity, or reversed for odd blocks)
// token i is transformed with alpha_i, mu_i computed from tokens < i:
//   z_i = (x_i - mu_i) * exp(-alpha_i),   logdet = -sum(alpha),
// so the Jacobian is block lower-triangular with diagonal blocks exp(-alpha_i).
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "framework/nn/attention.h"
#include "framework/nn/layer_norm.h"
#include "framework/nn/linear.h"
#include "framework/nn/mlp.h"
#include "layers/autoregressive_inversion.h"
#include "layers/flow.h"

namespace ft::layers {

// A pre-LayerNorm transformer layer (ml-tarflow's AttentionBlock):
// x + attention(LN(x)), then x + MLP(LN(x)) with a 4x GELU MLP.
class AttentionBlock : public nn::Module {
 public:
  AttentionBlock(int64_t width, int64_t head_dim, Generator& gen);
  Tensor forward(const Tensor& x, double attention_temperature = 1.0) const;
  // Token-by-token inference: appends x_new to the cache (no autograd).
  Tensor forward_cached(const Tensor& x_new, nn::KVCache& cache, int64_t capacity,
                        double attention_temperature = 1.0) const;

  std::shared_ptr<nn::LayerNorm> attention_norm;
  std::shared_ptr<nn::CausalSelfAttention> attention;
  std::shared_ptr<nn::LayerNorm> mlp_norm;
  std::shared_ptr<nn::MLP> mlp;
};

// How a block's inverse produces tokens (ml-tarflow's MetaBlock.reverse arguments).
struct InverseOptions {
  // Classifier-free guidance weight w; token i uses g_i = (i+1)/(T-1) * w and
  // alpha <- alpha_c + g_i (alpha_c - alpha_u), same for mu. 0: one pass only.
  double guidance = 0.0;
  // Attention temperature of the unconditional pass (the only difference between
  // the two passes of an unconditional model).
  double attention_temperature = 1.0;
  // false: recompute the transformer over the whole prefix for every token
  // instead of using the KV cache (a reference for the cached path).
  bool kv_cache = true;
  AutoregressiveInversion inversion;  // sequential or Jacobi windows
  // Called after each token is produced (progress reports of long sampling runs).
  std::function<void()> on_token;
};

struct TarflowBlockConfig {
  int64_t tokens = 0;     // T
  int64_t token_dim = 0;  // C*P*P
  int64_t width = 0;
  int64_t layers = 0;
  int64_t head_dim = 64;
  int64_t num_classes = 0;
  bool reverse_order = false;  // the block's token permutation: reversed (odd blocks) or identity
};

class TarflowBlock : public FlowLayer {
 public:
  TarflowBlock(const TarflowBlockConfig& config, Generator& gen);

  // x [N, T, token_dim] -> z, logdet [N]; no labels: the mean class embedding.
  FlowResult forward(const Tensor& x) override;
  // labels: i64 [N] in [-1, num_classes), -1 meaning "no label" (the mean class
  // embedding); undefined: no label for every example. Ignored when unconditional.
  FlowResult forward(const Tensor& x, const Tensor& labels);
  Tensor inverse(const Tensor& z) override;
  // Token by token, in the block's order; inference only (no autograd).
  Tensor inverse(const Tensor& z, const Tensor& labels, const InverseOptions& options = {});
  std::string kind() const override { return "tarflow_block"; }
  const TarflowBlockConfig& config() const { return config_; }

  std::shared_ptr<nn::Linear> proj_in;
  Tensor pos_embed;    // [T, width], in the natural token order
  Tensor class_embed;  // [num_classes, width]; undefined when unconditional
  std::vector<std::shared_ptr<AttentionBlock>> attn_blocks;
  std::shared_ptr<nn::Linear> proj_out;

 private:
  using Caches = std::vector<nn::KVCache>;
  Tensor permute_tokens(const Tensor& x) const;  // its own inverse
  Tensor permuted_pos_embed() const;
  Tensor conditioning(const Tensor& labels) const;  // [N or 1, 1, width]; undefined: none
  // proj_out of the transformer over tokens x (block order), before the shift.
  Tensor transformer(const Tensor& x, const Tensor& pos, const Tensor& cond, double temperature) const;
  // alpha, mu [N, e - s, d] for tokens s + 1 .. e from tokens < e of x (block order).
  // With caches, tokens < s are read from them and the window's keys and values
  // (re)written, so a window can be passed over again.
  std::pair<Tensor, Tensor> predict_window(const Tensor& x, const Tensor& pos, int64_t s, int64_t e,
                                           const Tensor& cond, Caches* caches, double temperature) const;
  struct InverseState;  // one inverse's conditioning, caches and options
  std::pair<Tensor, Tensor> guided_window(InverseState& state, const Tensor& x, int64_t s, int64_t e) const;
  // Fills tokens s + 1 .. e of x (block order) from z by Jacobi iteration.
  void solve_window(InverseState& state, const Tensor& z, Tensor& x, int64_t s, int64_t e) const;

  TarflowBlockConfig config_;
};

}  // namespace ft::layers
