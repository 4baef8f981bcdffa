#include "layers/flows/distribution.h"

#include "framework/ops/ops.h"
#include "layers/flows/transform.h"
#include "layers/likelihood.h"

namespace ft::layers::flows {

namespace {

// A base without context: n draws; one with context: n per context row.
int64_t sample_rows(int64_t n, const Tensor& context) { return context.defined() ? n * context.size(0) : n; }

}  // namespace

Tensor repeat_rows(const Tensor& context, int64_t n) {
  std::vector<int64_t> rows;
  for (int64_t m = 0; m < context.size(0); ++m)
    for (int64_t i = 0; i < n; ++i) rows.push_back(m);
  Tensor index = Tensor::from_vector(rows, {int64_t(rows.size())}).to(context.device());
  return index_select(context, 0, index);
}

Tensor StandardNormal::log_prob(const Tensor& z, const Tensor& context) {
  check_features(z, features_, "standard normal");
  (void)context;  // unconditional: any context is ignored, as in nflows
  return gaussian_log_prob(z, Tensor(), Tensor());
}

Tensor StandardNormal::sample(int64_t n, const Tensor& context, Generator& gen) {
  DType dtype = context.defined() ? context.dtype() : DType::f32;
  Device device = context.defined() ? context.device() : Device::cpu();
  return normal({sample_rows(n, context), features_}, 0.0, 1.0, gen, dtype).to(device);
}

Tensor StandardLogistic::log_prob(const Tensor& z, const Tensor& context) {
  check_features(z, features_, "standard logistic");
  (void)context;
  return sum_except_batch(add(log_sigmoid(z), log_sigmoid(neg(z))));
}

Tensor StandardLogistic::sample(int64_t n, const Tensor& context, Generator& gen) {
  DType dtype = context.defined() ? context.dtype() : DType::f32;
  Device device = context.defined() ? context.device() : Device::cpu();
  // u in (0, 1) strictly: the half-open draw's 0 would give -inf.
  Tensor u = uniform({sample_rows(n, context), features_}, 1e-7, 1.0 - 1e-7, gen, DType::f64);
  return sub(log(u), log(add(neg(u), 1.0))).to(dtype).to(device);
}

DiagonalNormal::DiagonalNormal(int64_t features) {
  mean = Tensor::zeros({features});
  log_std = Tensor::zeros({features});
  register_parameter("mean", &mean);
  register_parameter("log_std", &log_std);
}

Tensor DiagonalNormal::log_prob(const Tensor& z, const Tensor& context) {
  check_features(z, features(), "diagonal normal");
  (void)context;
  return gaussian_log_prob(z, mean.to(z.dtype()), log_std.to(z.dtype()));
}

Tensor DiagonalNormal::sample(int64_t n, const Tensor& context, Generator& gen) {
  Tensor eps = normal({sample_rows(n, context), features()}, 0.0, 1.0, gen, mean.dtype()).to(mean.device());
  return add(mul(eps, exp(log_std)), mean);
}

ConditionalDiagonalNormal::ConditionalDiagonalNormal(int64_t features, std::shared_ptr<DenseNetwork> context_encoder)
    : features_(features), encoder_(std::move(context_encoder)) {
  FT_CHECK(encoder_->context_features() == 0, "the context encoder reads the context as its input, not as context");
  register_module("context_encoder", encoder_);
}

std::pair<Tensor, Tensor> ConditionalDiagonalNormal::parameters(const Tensor& context, DType dtype) const {
  FT_CHECK(context.defined(), "a conditional diagonal normal needs a context");
  Tensor h = encoder_->forward(context.to(dtype), Tensor());
  FT_CHECK(h.dim() == 2 && h.size(1) == 2 * features_, "context encoder gave {} where [N, {}] was expected",
           shape_str(h.shape()), 2 * features_);
  auto halves = chunk(h, 2, 1);
  return {halves[0], halves[1]};
}

Tensor ConditionalDiagonalNormal::log_prob(const Tensor& z, const Tensor& context) {
  check_features(z, features_, "conditional diagonal normal");
  FT_CHECK(context.defined() && context.size(0) == z.size(0), "context of shape {} for {} examples",
           context.defined() ? shape_str(context.shape()) : std::string("none"), z.size(0));
  auto [m, s] = parameters(context, z.dtype());
  return gaussian_log_prob(z, m, s);
}

Tensor ConditionalDiagonalNormal::sample(int64_t n, const Tensor& context, Generator& gen) {
  FT_CHECK(context.defined(), "a conditional diagonal normal samples given a context");
  auto [m, s] = parameters(repeat_rows(context, n), context.dtype());
  Tensor eps = normal(m.shape(), 0.0, 1.0, gen, m.dtype()).to(m.device());
  return add(mul(eps, exp(s)), m);
}

}  // namespace ft::layers::flows
