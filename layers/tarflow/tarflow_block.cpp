#include "layers/tarflow/tarflow_block.h"

#include "framework/autograd/grad_mode.h"
#include "framework/ops/ops.h"

namespace ft::layers {

AttentionBlock::AttentionBlock(int64_t width, int64_t head_dim, Generator& gen) {
  attention_norm = register_module("attention_norm", std::make_shared<nn::LayerNorm>(width));
  attention = register_module("attention", std::make_shared<nn::CausalSelfAttention>(width, head_dim, gen));
  mlp_norm = register_module("mlp_norm", std::make_shared<nn::LayerNorm>(width));
  mlp = register_module("mlp", std::make_shared<nn::MLP>(width, 4 * width, width, gen));
}

Tensor AttentionBlock::forward(const Tensor& x, double attention_temperature) const {
  Tensor h = add(x, attention->forward(attention_norm->forward(x), attention_temperature));
  return add(h, mlp->forward(mlp_norm->forward(h)));
}

Tensor AttentionBlock::forward_cached(const Tensor& x_new, nn::KVCache& cache, int64_t capacity,
                                      double attention_temperature) const {
  Tensor h = add(x_new, attention->forward_cached(attention_norm->forward(x_new), cache, capacity,
                                                  attention_temperature));
  return add(h, mlp->forward(mlp_norm->forward(h)));
}

TarflowBlock::TarflowBlock(const TarflowBlockConfig& config, Generator& gen) : config_(config) {
  FT_CHECK(config.tokens >= 2 && config.token_dim > 0 && config.width > 0 && config.layers > 0,
           "tarflow block with {} tokens of dim {}, width {}, {} layers", config.tokens, config.token_dim,
           config.width, config.layers);
  // Registration (and generator) order follows ml-tarflow's MetaBlock.__init__.
  proj_in = register_module("proj_in", std::make_shared<nn::Linear>(config.token_dim, config.width, true, gen));
  pos_embed = normal({config.tokens, config.width}, 0.0, 0.01, gen);
  register_parameter("pos_embed", &pos_embed);
  if (config.num_classes > 0) {
    class_embed = normal({config.num_classes, config.width}, 0.0, 0.01, gen);
    register_parameter("class_embed", &class_embed);
  }
  for (int64_t k = 0; k < config.layers; ++k)
    attn_blocks.push_back(register_module("attn_blocks." + std::to_string(k),
                                          std::make_shared<AttentionBlock>(config.width, config.head_dim, gen)));
  proj_out = register_module("proj_out", std::make_shared<nn::Linear>(config.width, 2 * config.token_dim, true, gen));
  // A zero weight makes every block the identity at init; the bias keeps its default
  // init, as in ml-tarflow (proj_out.weight.data.fill_(0.0) only).
  proj_out->weight.detach().zero_();
}

Tensor TarflowBlock::permute_tokens(const Tensor& x) const { return config_.reverse_order ? flip(x, 1) : x; }

Tensor TarflowBlock::permuted_pos_embed() const {
  return config_.reverse_order ? flip(pos_embed, 0) : pos_embed;
}

Tensor TarflowBlock::conditioning(const Tensor& labels) const {
  if (!class_embed.defined()) return Tensor();
  Tensor mean_embed = mean(class_embed, {0}, true);  // [1, width]: "no label"
  if (!labels.defined()) return mean_embed.unsqueeze(0);
  FT_CHECK(labels.dim() == 1 && labels.dtype() == DType::i64, "labels must be i64 [N], got {} {}",
           dtype_name(labels.dtype()), shape_str(labels.shape()));
  // Row num_classes of the extended table is the mean embedding, so dropped labels
  // (-1) pick it with one differentiable gather.
  std::vector<int64_t> rows = labels.to_vector<int64_t>();
  for (int64_t& r : rows) {
    FT_CHECK(r >= -1 && r < config_.num_classes, "label {} outside [-1, {})", r, config_.num_classes);
    if (r < 0) r = config_.num_classes;
  }
  Tensor table = concat({class_embed, mean_embed}, 0);
  Tensor index = Tensor::from_vector(rows, {int64_t(rows.size())}).to(class_embed.device());
  return index_select(table, 0, index).unsqueeze(1);
}

Tensor TarflowBlock::transformer(const Tensor& x, const Tensor& pos, const Tensor& cond, double temperature) const {
  Tensor h = add(proj_in->forward(x), pos);
  if (cond.defined()) h = add(h, cond);
  for (const auto& layer : attn_blocks) h = layer->forward(h, temperature);
  return proj_out->forward(h);
}

FlowResult TarflowBlock::forward(const Tensor& x) { return forward(x, Tensor()); }

FlowResult TarflowBlock::forward(const Tensor& x, const Tensor& labels) {
  int64_t t = config_.tokens, d = config_.token_dim;
  FT_CHECK(x.dim() == 3 && x.size(1) == t && x.size(2) == d, "tarflow block input {} (expected [N, {}, {}])",
           shape_str(x.shape()), t, d);
  Tensor xp = permute_tokens(x);
  Tensor out = transformer(xp, permuted_pos_embed(), conditioning(labels), 1.0);
  // Shift by one token: token i is transformed by the output at i - 1, token 0 by zeros.
  Tensor zeros = Tensor::zeros({x.size(0), 1, 2 * d}, x.dtype(), x.device());
  Tensor shifted = concat({zeros, out.slice(1, 0, t - 1)}, 1);
  Tensor alpha = shifted.slice(2, 0, d), mu = shifted.slice(2, d, 2 * d);
  Tensor z = mul(sub(xp, mu), exp(neg(alpha)));
  return {permute_tokens(z), neg(sum(alpha, {1, 2}))};
}

std::pair<Tensor, Tensor> TarflowBlock::predict_next(const Tensor& x, const Tensor& pos, int64_t i,
                                                     const Tensor& cond, Caches* caches, double temperature) const {
  int64_t d = config_.token_dim;
  Tensor out;
  if (caches) {
    // Only token i is new: earlier tokens' keys and values are in the caches.
    Tensor h = add(proj_in->forward(x.slice(1, i, i + 1)), pos.slice(0, i, i + 1));
    if (cond.defined()) h = add(h, cond);
    for (size_t k = 0; k < attn_blocks.size(); ++k)
      h = attn_blocks[k]->forward_cached(h, (*caches)[k], config_.tokens, temperature);
    out = proj_out->forward(h);
  } else {
    out = transformer(x.slice(1, 0, i + 1), pos.slice(0, 0, i + 1), cond, temperature).slice(1, i, i + 1);
  }
  return {out.slice(2, 0, d), out.slice(2, d, 2 * d)};
}

Tensor TarflowBlock::inverse(const Tensor& z) { return inverse(z, Tensor()); }

Tensor TarflowBlock::inverse(const Tensor& z, const Tensor& labels, const InverseOptions& options) {
  int64_t t = config_.tokens;
  FT_CHECK(z.dim() == 3 && z.size(1) == t && z.size(2) == config_.token_dim,
           "tarflow block inverse input {} (expected [N, {}, {}])", shape_str(z.shape()), t, config_.token_dim);
  NoGradGuard no_grad;
  Tensor x = permute_tokens(z).clone();  // filled in place, token by token
  Tensor pos = permuted_pos_embed();
  Tensor cond = conditioning(labels);
  // The unconditional pass: the mean class embedding (no label) and the attention temperature.
  Tensor uncond = conditioning(Tensor());
  bool guided = options.guidance != 0.0;
  Caches cond_caches(attn_blocks.size()), uncond_caches(attn_blocks.size());
  Caches* cc = options.kv_cache ? &cond_caches : nullptr;
  Caches* uc = options.kv_cache ? &uncond_caches : nullptr;
  // Token 0 has alpha = mu = 0 and passes through.
  for (int64_t i = 0; i + 1 < t; ++i) {
    auto [alpha, mu] = predict_next(x, pos, i, cond, cc, 1.0);
    if (guided) {
      auto [alpha_u, mu_u] = predict_next(x, pos, i, uncond, uc, options.attention_temperature);
      double g = double(i + 1) / double(t - 1) * options.guidance;  // annealed over tokens
      alpha = add(alpha, mul(sub(alpha, alpha_u), g));
      mu = add(mu, mul(sub(mu, mu_u), g));
    }
    Tensor next = x.slice(1, i + 1, i + 2);
    next.copy_(add(mul(next, exp(alpha)), mu));
    if (options.on_token) options.on_token();
  }
  return permute_tokens(x);
}

}  // namespace ft::layers
