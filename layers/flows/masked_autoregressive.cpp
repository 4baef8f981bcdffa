#include "layers/flows/masked_autoregressive.h"

#include "framework/ops/ops.h"

namespace ft::layers::flows {

MaskedAutoregressive::MaskedAutoregressive(int64_t features, int64_t hidden, int64_t hidden_layers,
                                           int64_t parameters_per_feature, int64_t context_features, Generator& gen) {
  made = register_module("made", std::make_shared<MADE>(features, hidden, hidden_layers, parameters_per_feature,
                                                        context_features, gen));
}

Tensor MaskedAutoregressive::parameters(const Tensor& x, const Tensor& context) const {
  return made->forward(x, context).reshape({x.size(0), made->features(), -1});
}

TransformResult MaskedAutoregressive::forward(const Tensor& x, const Tensor& context) {
  ElementwiseResult r = elementwise(x, parameters(x, context), false);
  return {r.y, sum_except_batch(r.logabsdet)};
}

TransformResult MaskedAutoregressive::inverse(const Tensor& y, const Tensor& context) {
  check_features(y, made->features(), "autoregressive transform");
  // Pass i fixes feature i; every pass stays on the graph, so gradients through
  // the inverse (an IAF's density) are exact.
  Tensor x = Tensor::zeros_like(y);
  ElementwiseResult r;
  for (int64_t i = 0; i < made->features(); ++i) {
    r = elementwise(y, parameters(x, context), true);
    x = r.y;
  }
  return {x, sum_except_batch(r.logabsdet)};
}

MaskedAffineAutoregressive::MaskedAffineAutoregressive(int64_t features, int64_t hidden, int64_t hidden_layers,
                                                       int64_t context_features, Generator& gen)
    : MaskedAutoregressive(features, hidden, hidden_layers, 2, context_features, gen) {}

ElementwiseResult MaskedAffineAutoregressive::elementwise(const Tensor& x, const Tensor& params, bool inverse) const {
  Tensor log_scale = log(add(softplus(params.select(2, 0)), 1e-3));
  Tensor shift = params.select(2, 1);
  if (inverse) return {mul(sub(x, shift), exp(neg(log_scale))), neg(log_scale)};
  return {add(mul(x, exp(log_scale)), shift), log_scale};
}

MaskedRationalQuadraticAutoregressive::MaskedRationalQuadraticAutoregressive(int64_t features, int64_t hidden,
                                                                             int64_t hidden_layers,
                                                                             int64_t context_features,
                                                                             SplineOptions spline, Generator& gen)
    : MaskedAutoregressive(features, hidden, hidden_layers, spline_parameters(spline.bins), context_features, gen),
      spline_(spline) {}

ElementwiseResult MaskedRationalQuadraticAutoregressive::elementwise(const Tensor& x, const Tensor& params,
                                                                     bool inverse) const {
  return rational_quadratic_spline(x, params, spline_.bins, spline_.tail_bound, inverse);
}

std::shared_ptr<Transform> make_iaf(int64_t features, int64_t hidden, int64_t hidden_layers, int64_t context_features,
                                    Generator& gen) {
  return std::make_shared<InverseTransform>(
      std::make_shared<MaskedAffineAutoregressive>(features, hidden, hidden_layers, context_features, gen));
}

}  // namespace ft::layers::flows
