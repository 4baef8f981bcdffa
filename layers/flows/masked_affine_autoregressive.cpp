#include "layers/flows/masked_affine_autoregressive.h"

#include "framework/ops/ops.h"

namespace ft::layers::flows {

MaskedAffineAutoregressive::MaskedAffineAutoregressive(int64_t features, int64_t hidden, int64_t hidden_layers,
                                                       int64_t context_features, Generator& gen) {
  made = register_module("made", std::make_shared<MADE>(features, hidden, hidden_layers, 2, context_features, gen));
}

std::pair<Tensor, Tensor> MaskedAffineAutoregressive::log_scale_and_shift(const Tensor& x, const Tensor& context) const {
  Tensor params = made->forward(x, context).reshape({x.size(0), made->features(), 2});
  Tensor log_scale = log(add(softplus(params.select(2, 0)), 1e-3));
  return {log_scale, params.select(2, 1)};
}

TransformResult MaskedAffineAutoregressive::forward(const Tensor& x, const Tensor& context) {
  auto [log_scale, shift] = log_scale_and_shift(x, context);
  return {add(mul(x, exp(log_scale)), shift), sum(log_scale, {1})};
}

TransformResult MaskedAffineAutoregressive::inverse(const Tensor& y, const Tensor& context) {
  check_features(y, made->features(), "MAF");
  // Pass i fixes feature i; every pass stays on the graph, so gradients through
  // the inverse (an IAF's density) are exact.
  Tensor x = Tensor::zeros_like(y);
  for (int64_t i = 0; i + 1 < made->features(); ++i) {
    auto [log_scale, shift] = log_scale_and_shift(x, context);
    x = mul(sub(y, shift), exp(neg(log_scale)));
  }
  auto [log_scale, shift] = log_scale_and_shift(x, context);
  return {mul(sub(y, shift), exp(neg(log_scale))), neg(sum(log_scale, {1}))};
}

std::shared_ptr<Transform> make_iaf(int64_t features, int64_t hidden, int64_t hidden_layers, int64_t context_features,
                                    Generator& gen) {
  return std::make_shared<InverseTransform>(
      std::make_shared<MaskedAffineAutoregressive>(features, hidden, hidden_layers, context_features, gen));
}

}  // namespace ft::layers::flows
