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

std::pair<Tensor, Tensor> TarflowBlock::predict_window(const Tensor& x, const Tensor& pos, int64_t s, int64_t e,
                                                       const Tensor& cond, Caches* caches, double temperature) const {
  int64_t d = config_.token_dim;
  Tensor out;
  if (caches) {
    Tensor h = add(proj_in->forward(x.slice(1, s, e)), pos.slice(0, s, e));
    if (cond.defined()) h = add(h, cond);
    for (size_t k = 0; k < attn_blocks.size(); ++k) {
      nn::KVCache& cache = (*caches)[k];
      FT_CHECK(cache.length >= s, "KV cache holds {} tokens, the window starts at {}", cache.length, s);
      cache.length = s;  // forget the window's previous iterate
      h = attn_blocks[k]->forward_cached(h, cache, config_.tokens, temperature);
    }
    out = proj_out->forward(h);
  } else {
    out = transformer(x.slice(1, 0, e), pos.slice(0, 0, e), cond, temperature).slice(1, s, e);
  }
  return {out.slice(2, 0, d), out.slice(2, d, 2 * d)};
}

struct TarflowBlock::InverseState {
  Tensor pos, cond, uncond;
  Caches cond_caches, uncond_caches;
  InverseOptions options;
  Caches* cached(Caches& caches) { return options.kv_cache ? &caches : nullptr; }
};

std::pair<Tensor, Tensor> TarflowBlock::guided_window(InverseState& st, const Tensor& x, int64_t s,
                                                      int64_t e) const {
  auto [alpha, mu] = predict_window(x, st.pos, s, e, st.cond, st.cached(st.cond_caches), 1.0);
  double w = st.options.guidance;
  if (w == 0.0) return {alpha, mu};
  auto [alpha_u, mu_u] =
      predict_window(x, st.pos, s, e, st.uncond, st.cached(st.uncond_caches), st.options.attention_temperature);
  // Annealed over tokens: token i + 1 (predicted at position i) gets (i + 1) / (T - 1) * w.
  auto ramp = [&](int64_t i) { return double(i + 1) / double(config_.tokens - 1) * w; };
  // One token: the scalar form the sequential sampler has always used, so its numbers stay.
  if (e - s == 1) return {add(alpha, mul(sub(alpha, alpha_u), ramp(s))), add(mu, mul(sub(mu, mu_u), ramp(s)))};
  std::vector<double> weights;
  for (int64_t i = s; i < e; ++i) weights.push_back(ramp(i));
  Tensor g = Tensor::from_vector(weights, {1, e - s, 1}).to(alpha.dtype()).to(alpha.device());
  return {add(alpha, mul(sub(alpha, alpha_u), g)), add(mu, mul(sub(mu, mu_u), g))};
}

void TarflowBlock::solve_window(InverseState& state, const Tensor& z, Tensor& x, int64_t s, int64_t e) const {
  const AutoregressiveInversion& o = state.options.inversion;
  int64_t size = e - s;
  int64_t cap = o.max_iterations > 0 ? std::min(o.max_iterations, size) : size;
  Tensor tokens = x.slice(1, s + 1, e + 1), noise = z.slice(1, s + 1, e + 1);
  double residual = 0.0;
  if (o.stats) ++o.stats->windows;
  for (int64_t k = 1; k <= cap; ++k) {
    auto [alpha, mu] = guided_window(state, x, s, e);
    Tensor next = add(mul(noise, exp(alpha)), mu);
    if (o.stats) ++o.stats->iterations;
    bool exact = k == size;  // the window's first k tokens are exact after k passes
    if (!exact) residual = max(abs(sub(next, tokens)).reshape({next.numel()}), 0).item();
    tokens.copy_(next);
    if (exact || residual <= o.tolerance) {
      if (state.options.on_token)
        for (int64_t i = 0; i < size; ++i) state.options.on_token();
      return;
    }
  }
  FT_FAIL("tarflow inverse: Jacobi window of tokens [{}, {}) not converged after {} iterations: residual {:.3g} > "
          "tolerance {:.3g} (raise max_iterations or the tolerance)",
          s + 1, e + 1, cap, residual, o.tolerance);
}

Tensor TarflowBlock::inverse(const Tensor& z) { return inverse(z, Tensor()); }

Tensor TarflowBlock::inverse(const Tensor& z, const Tensor& labels, const InverseOptions& options) {
  int64_t t = config_.tokens;
  FT_CHECK(z.dim() == 3 && z.size(1) == t && z.size(2) == config_.token_dim,
           "tarflow block inverse input {} (expected [N, {}, {}])", shape_str(z.shape()), t, config_.token_dim);
  const AutoregressiveInversion& inversion = options.inversion;
  FT_CHECK(inversion.jacobi_block >= 0, "Jacobi block {} must be >= 0 (0: the whole block)", inversion.jacobi_block);
  FT_CHECK(inversion.max_iterations >= 0, "Jacobi max_iterations {} must be >= 0", inversion.max_iterations);
  FT_CHECK(inversion.tolerance >= 0.0, "Jacobi tolerance {} must be >= 0", inversion.tolerance);
  NoGradGuard no_grad;
  Tensor zp = permute_tokens(z);
  Tensor x = zp.clone();  // the first iterate; filled in place, window by window
  InverseState state;
  state.pos = permuted_pos_embed();
  state.cond = conditioning(labels);
  // The unconditional pass: the mean class embedding (no label) and the attention temperature.
  state.uncond = conditioning(Tensor());
  state.cond_caches.resize(attn_blocks.size());
  state.uncond_caches.resize(attn_blocks.size());
  state.options = options;
  // Token 0 has alpha = mu = 0 and passes through; positions [s, e) predict tokens s + 1 .. e.
  const int64_t window = inversion.jacobi_block == 0 ? t - 1 : std::min(inversion.jacobi_block, t - 1);
  for (int64_t s = 0; s + 1 < t; s += window) solve_window(state, zp, x, s, std::min(s + window, t - 1));
  return permute_tokens(x);
}

}  // namespace ft::layers
