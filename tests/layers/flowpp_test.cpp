// Flow++ (layers/flows/flowpp*.h, logistic_mixture.h): the logistic-mixture map inverts
// by bisection and its log-derivative is the true one; the image coupling and the
// variational dequantizer report the brute-force log|det J| (f64, Jacobian by
// autograd); the built model inverts, its log-density is base + logdet, its gradients
// are finite; bad configs and shapes name the key or the shape.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "framework/ops/ops.h"
#include "layers/flows/composed_flow_model.h"
#include "layers/flows/flowpp.h"
#include "layers/flows/flowpp_coupling.h"
#include "layers/flows/flowpp_dequantizer.h"
#include "layers/flows/logistic_mixture.h"
#include "layers/likelihood.h"
#include "tests/framework/gradcheck.h"
#include "tests/layers/flow_testing.h"
#include "tests/support/error_message.h"

using namespace ft;
using namespace ft::layers::flows;
using ft::testing::jacobian;
using ft::testing::max_abs;
using ft::testing::max_abs_difference;
using ft::testing::perturb_parameters;

namespace {

constexpr int64_t kComponents = 4;

Tensor gaussian(const Shape& shape, uint64_t stream, double std, DType dtype) {
  Generator gen(31, stream);
  return normal(shape, 0.0, std, gen, dtype);
}

// Mixture parameters for x [...]: weights and means N(0, 1), log scales N(0, 1) with a
// few below the clamp at -7, a and b N(0, 0.5).
LogisticMixtureCoupling random_coupling(const Shape& shape, DType dtype) {
  Shape mixture_shape = shape;
  mixture_shape.push_back(kComponents);
  Tensor log_scales = gaussian(mixture_shape, 3, 1.0, dtype);
  log_scales.slice(log_scales.dim() - 1, 0, 1).fill_(-8.0);
  return {gaussian(shape, 4, 0.5, dtype),
          gaussian(shape, 5, 0.5, dtype),
          {gaussian(mixture_shape, 1, 1.0, dtype), gaussian(mixture_shape, 2, 1.0, dtype), log_scales}};
}

double sigmoid_of(double v) { return 1.0 / (1.0 + std::exp(-v)); }

// exp(a) logit(sum_k pi_k sigmoid((x - mu_k) / scale_k)) + b, element by element on the host.
std::vector<double> host_forward(const Tensor& x, const LogisticMixtureCoupling& p) {
  std::vector<double> xs = x.to_double_vector(), a = p.log_scale.to_double_vector(), b = p.shift.to_double_vector();
  std::vector<double> logits = p.mixture.logits.to_double_vector(), means = p.mixture.means.to_double_vector(),
                      log_scales = p.mixture.log_scales.to_double_vector();
  std::vector<double> y(xs.size());
  for (size_t e = 0; e < xs.size(); ++e) {
    double total = 0.0, cdf = 0.0;
    for (size_t k = 0; k < size_t(kComponents); ++k) total += std::exp(logits[e * kComponents + k]);
    for (size_t k = 0; k < size_t(kComponents); ++k) {
      double s = std::max(log_scales[e * kComponents + k], kLogisticMixtureMinLogScale);
      cdf += std::exp(logits[e * kComponents + k]) / total *
             sigmoid_of((xs[e] - means[e * kComponents + k]) * std::exp(-s));
    }
    y[e] = std::exp(a[e]) * std::log(cdf / (1.0 - cdf)) + b[e];
  }
  return y;
}

FlowppCouplingOptions tiny_coupling(int64_t context_channels = 0) {
  FlowppCouplingOptions o;
  o.filters = 8;
  o.blocks = 1;
  o.heads = 2;
  o.components = 3;
  o.context_channels = context_channels;
  return o;
}

FlowppConfig tiny_config() {
  FlowppConfig c;
  c.channels = 3;
  c.image_size = 4;
  c.filters = 8;
  c.blocks = 1;
  c.heads = 2;
  c.components = 3;
  c.scales = {{0, 2}, {2, 1}};
  c.dequant_couplings = 2;
  c.dequant_filters = 8;
  c.dequant_blocks = 1;
  c.dequant_context_channels = 4;
  c.dequant_context_blocks = 1;
  return c;
}

// Integer pixel values in [0, 255].
// The flow's input: dequantized pixels (pixel + u) / 256 in [0, 1).
Tensor unit_range(const Tensor& dequantized_pixels) { return mul(dequantized_pixels, 1.0 / 256.0); }

Tensor pixels(const Shape& shape, uint64_t stream, DType dtype) {
  Generator gen(41, stream);
  std::vector<double> v(size_t(numel_of(shape)));
  for (double& e : v) e = double(gen.next_below(256));
  return Tensor::from_vector(v, shape).to(dtype);
}

double brute_logdet(Transform& t, const Tensor& x, const Tensor& context, int64_t n) {
  Tensor one = x.slice(0, n, n + 1).contiguous();
  Tensor c = context.defined() ? context.slice(0, n, n + 1).contiguous() : Tensor();
  return logabsdet(jacobian([&](const Tensor& v) { return t.forward(v, c).y; }, one)).item();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(flowpp)

BOOST_AUTO_TEST_CASE(mixture_map_is_the_logit_of_the_mixture_cdf) {
  Shape shape{3, 5};
  LogisticMixtureCoupling p = random_coupling(shape, DType::f64);
  Tensor x = gaussian(shape, 6, 2.0, DType::f64);
  ElementwiseResult r = logistic_mixture_coupling(x, p, false);
  std::vector<double> expected = host_forward(x, p);
  ft::testing::check_close("y against the host formula", r.y.to_double_vector(), expected, 1e-10);
}

BOOST_AUTO_TEST_CASE(mixture_inverse_recovers_the_input) {
  Shape shape{2, 3, 4, 4};
  for (DType dtype : {DType::f64, DType::f32}) {
    BOOST_TEST_CONTEXT(dtype_name(dtype)) {
      LogisticMixtureCoupling p = random_coupling(shape, dtype);
      Tensor x = gaussian(shape, 7, 3.0, dtype);
      ElementwiseResult forward = logistic_mixture_coupling(x, p, false);
      ElementwiseResult back = logistic_mixture_coupling(forward.y, p, true);
      double tolerance = dtype == DType::f64 ? 1e-10 : 1e-5;
      // Relative to the input's scale (f32: the forward's rounding, amplified by dx/dy).
      ft::testing::check_close("inverse(forward(x))", back.y, x, tolerance);
      ft::testing::check_close("inverse logabsdet", neg(back.logabsdet), forward.logabsdet, tolerance);
    }
  }
}

BOOST_AUTO_TEST_CASE(mixture_inverse_holds_deep_in_the_tails) {
  Shape shape{2, 6};
  LogisticMixtureCoupling p = random_coupling(shape, DType::f64);
  std::vector<double> far{-300, -60, -25, 25, 60, 300, -1e3, -40, 0.5, 40, 1e3, 7};
  Tensor x = Tensor::from_vector(far, shape);
  x = x.to(DType::f64);
  ElementwiseResult forward = logistic_mixture_coupling(x, p, false);
  BOOST_TEST(std::isfinite(max_abs(forward.y)));
  BOOST_TEST(std::isfinite(max_abs(forward.logabsdet)));
  ElementwiseResult back = logistic_mixture_coupling(forward.y, p, true);
  ft::testing::check_close("inverse in the tails", back.y, x, 1e-10);
}

BOOST_AUTO_TEST_CASE(bisection_meets_its_tolerance_and_stops_at_its_cap) {
  Shape shape{4, 8};
  LogisticMixtureCoupling p = random_coupling(shape, DType::f64);
  Tensor x = gaussian(shape, 13, 3.0, DType::f64);
  Tensor y = logistic_mixture_coupling(x, p, false).y;
  auto errors = [&](BisectionOptions options) {
    Tensor solved = logistic_mixture_coupling(y, p, true, options).y;
    return div(abs(sub(solved, x)), add(abs(x), 1.0));  // relative, as the tolerance
  };
  BOOST_TEST(max_abs(errors({1e-4, 100})) <= 1e-4);
  BOOST_TEST(max_abs(errors({1e-4, 100})) > 1e-12);  // it stopped early, as asked
  double capped = max_abs(errors({1e-12, 3}));
  BOOST_TEST(std::isfinite(capped));
  BOOST_TEST(capped > 1e-6);  // three halvings cannot reach the tolerance
  BOOST_CHECK_THROW(logistic_mixture_coupling(y, p, true, {1e-12, 0}), Error);
}

BOOST_AUTO_TEST_CASE(mixture_log_derivative_matches_autograd_and_finite_differences) {
  Shape shape{2, 3, 2, 2};
  LogisticMixtureCoupling p = random_coupling(shape, DType::f64);
  Tensor x = gaussian(shape, 8, 2.0, DType::f64);
  x.set_requires_grad(true);
  ElementwiseResult r = logistic_mixture_coupling(x, p, false);
  sum(r.y).backward();  // elementwise: the gradient is the Jacobian's diagonal
  ft::testing::check_close("log dy/dx", r.logabsdet.detach(), log(x.grad()), 1e-12);
  // Every input's gradient (x, a, b, logits, means, log scales) of y and of the log-derivative.
  Tensor log_scales = add(p.mixture.log_scales.detach(), 0.0);
  log_scales.slice(log_scales.dim() - 1, 0, 1).fill_(-3.0);  // away from the clamp's kink
  std::vector<Tensor> inputs{x.detach().clone(), p.log_scale, p.shift, p.mixture.logits, p.mixture.means, log_scales};
  for (Tensor& t : inputs) t = t.detach().clone().set_requires_grad(true);
  ft::testing::check_gradients("logistic mixture coupling", [](const std::vector<Tensor>& in) {
    ElementwiseResult out = logistic_mixture_coupling(in[0], {in[1], in[2], {in[3], in[4], in[5]}}, false);
    return concat({out.y.reshape({-1}), out.logabsdet.reshape({-1})}, 0);
  }, inputs);
}

BOOST_AUTO_TEST_CASE(couplings_invert_with_the_brute_force_logdet) {
  for (ImageMask mask : {ImageMask::checkerboard, ImageMask::channel})
    for (int parity : {0, 1})
      for (int64_t context_channels : {int64_t(0), int64_t(3)}) {
        BOOST_TEST_CONTEXT(image_mask_name(mask) << " parity " << parity << " context " << context_channels) {
          Generator gen(11, 0);
          FlowppCoupling coupling(mask, parity, 2, 4, 4, tiny_coupling(context_channels), gen);
          coupling.to_dtype(DType::f64);
          perturb_parameters(coupling, 12, 0.1);
          Tensor x = gaussian({2, 2, 4, 4}, 9, 1.5, DType::f64);
          Tensor context = context_channels > 0 ? gaussian({2, 3, 4, 4}, 10, 1.0, DType::f64) : Tensor();
          TransformResult forward = coupling.forward(x, context);
          TransformResult back = coupling.inverse(forward.y, context);
          BOOST_TEST(max_abs_difference(back.y, x) < 1e-10);
          BOOST_TEST(max_abs_difference(add(back.logabsdet, forward.logabsdet), Tensor::zeros({2}, DType::f64)) <
                     1e-10);
          Tensor kept = image_mask(mask, parity, 2, 4, 4).to(DType::f64);
          BOOST_TEST(max_abs_difference(mul(forward.y, kept), mul(x, kept)) == 0.0);  // exactly passed through
          Tensor moved = add(neg(kept), 1.0);
          BOOST_TEST(max_abs_difference(mul(forward.y, moved), mul(x, moved)) > 1e-3);  // the rest is transformed
          for (int64_t n = 0; n < 2; ++n) {
            double brute = brute_logdet(coupling, x, context, n);
            BOOST_TEST(std::abs(forward.logabsdet.to_double_vector()[size_t(n)] - brute) < 1e-9);
          }
        }
      }
}

BOOST_AUTO_TEST_CASE(far_kept_entries_give_no_nan_in_values_or_gradients) {
  Generator gen(23, 0);
  FlowppCoupling coupling(ImageMask::checkerboard, 0, 2, 4, 4, tiny_coupling(), gen);
  perturb_parameters(coupling, 24, 0.1);
  Tensor kept = image_mask(ImageMask::checkerboard, 0, 2, 4, 4);
  // Kept entries at 1e4 (deep in every logistic's tail), transformed ones O(1).
  Tensor x = add(mul(kept, 1e4), mul(gaussian({2, 2, 4, 4}, 14, 1.0, DType::f32), add(neg(kept), 1.0)));
  x.set_requires_grad(true);
  TransformResult r = coupling.forward(x, Tensor());
  BOOST_TEST(std::isfinite(max_abs(r.y)));
  BOOST_TEST(std::isfinite(max_abs(r.logabsdet)));
  BOOST_TEST(max_abs_difference(mul(r.y, kept), mul(x, kept)) == 0.0);
  add(sum(r.y), sum(r.logabsdet)).backward();
  BOOST_TEST(std::isfinite(max_abs(x.grad())));
  for (auto& [name, p] : coupling.named_parameters()) BOOST_TEST(std::isfinite(max_abs(p.grad())), name);
}

BOOST_AUTO_TEST_CASE(a_fresh_coupling_is_the_logit_of_a_uniform_mixture) {
  // Zero-initialised last layer: a = b = 0 and equal standard logistics, so y = x.
  Generator gen(13, 0);
  FlowppCoupling coupling(ImageMask::checkerboard, 0, 2, 4, 4, tiny_coupling(), gen);
  Tensor x = gaussian({1, 2, 4, 4}, 11, 1.0, DType::f32);
  TransformResult r = coupling.forward(x, Tensor());
  BOOST_TEST(max_abs_difference(r.y, x) < 1e-5);
}

BOOST_AUTO_TEST_CASE(dequantizer_log_q_is_the_change_of_variables) {
  FlowppConfig config = tiny_config();
  config.channels = 2;
  Generator gen(14, 0);
  std::shared_ptr<VariationalDequantizer> dequantizer = flowpp_dequantizer(config, gen);
  dequantizer->to_dtype(DType::f64);
  dequantizer->set_training(false);
  perturb_parameters(*dequantizer, 15, 0.1);
  Tensor x = pixels({2, 2, 4, 4}, 1, DType::f64);
  Tensor eps = gaussian({2, 2, 4, 4}, 12, 1.0, DType::f64);
  DequantizationSample s = dequantizer->from_noise(x, eps);
  BOOST_TEST(max_abs(add(s.u, -0.5)) < 0.5);  // u in (0, 1)
  std::vector<double> log_q = s.log_q.to_double_vector();
  for (int64_t n = 0; n < 2; ++n) {
    Tensor xn = x.slice(0, n, n + 1).contiguous(), en = eps.slice(0, n, n + 1).contiguous();
    double log_det = logabsdet(jacobian([&](const Tensor& e) { return dequantizer->from_noise(xn, e).u; }, en)).item();
    double brute = layers::gaussian_log_prob(en, Tensor(), Tensor()).item() - log_det;
    BOOST_TEST(std::abs(log_q[size_t(n)] - brute) < 1e-9,
               "example " << n << ": " << log_q[size_t(n)] << " vs " << brute);
  }
  // The pixels enter through the context: another x gives another u for the same eps.
  BOOST_TEST(max_abs_difference(dequantizer->from_noise(add(x, 1.0), eps).u, s.u) > 1e-6);
  Generator draws(16, 0);
  DequantizationSample drawn = dequantizer->sample(x, draws);
  BOOST_TEST((drawn.u.shape() == x.shape()));
  BOOST_TEST(max_abs(add(drawn.u, -0.5)) < 0.5);
}

BOOST_AUTO_TEST_CASE(built_model_inverts_and_its_log_prob_is_base_plus_logdet) {
  Generator gen(17, 0);
  std::shared_ptr<Transform> flow = flowpp_transform(tiny_config(), gen);
  flow->to_dtype(DType::f64);
  Tensor x = unit_range(add(pixels({2, 3, 4, 4}, 2, DType::f64), 0.5));
  flow->forward(x, Tensor());  // ActNorm's data-dependent initialisation
  flow->set_training(false);
  perturb_parameters(*flow, 18, 0.05);
  TransformResult forward = flow->forward(x, Tensor());
  TransformResult back = flow->inverse(forward.y, Tensor());
  BOOST_TEST((forward.y.shape() == Shape{2, 12, 2, 2}));  // the last scale's shape
  ft::testing::check_close("inverse of the model", back.y, x, 1e-10);
  BOOST_TEST(max_abs_difference(add(back.logabsdet, forward.logabsdet), Tensor::zeros({2}, DType::f64)) < 1e-8);
  Tensor log_prob = add(layers::gaussian_log_prob(forward.y, Tensor(), Tensor()), forward.logabsdet);
  Tensor one = x.slice(0, 0, 1).contiguous();
  double brute = logabsdet(jacobian([&](const Tensor& v) { return flow->forward(v, Tensor()).y; }, one)).item();
  double expected = layers::gaussian_log_prob(forward.y.slice(0, 0, 1), Tensor(), Tensor()).item() + brute;
  BOOST_TEST(std::abs(log_prob.to_double_vector()[0] - expected) < 1e-8 * std::abs(expected));
}

BOOST_AUTO_TEST_CASE(model_and_dequantizer_run_on_another_device) {
  // cpu:1 catches every tensor made on the default device instead of the input's.
  Generator gen(25, 0);
  FlowppConfig config = tiny_config();
  std::shared_ptr<Transform> flow = flowpp_transform(config, gen);
  std::shared_ptr<VariationalDequantizer> dequantizer = flowpp_dequantizer(config, gen);
  Tensor x = pixels({2, 3, 4, 4}, 4, DType::f32);
  Generator noise(26, 0), same_noise(26, 0);
  DequantizationSample here = dequantizer->sample(x, noise);
  TransformResult forward = flow->forward(unit_range(add(x, here.u)), Tensor());
  flow->set_training(false);
  perturb_parameters(*flow, 27, 0.05);
  forward = flow->forward(unit_range(add(x, here.u)), Tensor());
  Tensor back = flow->inverse(forward.y, Tensor()).y;
  flow->to(Device::cpu(1));
  dequantizer->to(Device::cpu(1));
  Tensor moved_x = x.to(Device::cpu(1));
  DequantizationSample there = dequantizer->sample(moved_x, same_noise);
  TransformResult moved = flow->forward(unit_range(add(moved_x, there.u)), Tensor());
  Tensor moved_back = flow->inverse(moved.y, Tensor()).y;
  BOOST_TEST(max_abs_difference(there.log_q.to(Device::cpu()), here.log_q) == 0.0);
  BOOST_TEST(max_abs_difference(moved.logabsdet.to(Device::cpu()), forward.logabsdet) == 0.0);
  BOOST_TEST(max_abs_difference(moved_back.to(Device::cpu()), back) == 0.0);
}

// The trainer's view of Flow++ with its dequantizer (ComposedFlowModel): data arrive as
// bin corners p / 256; log_prob is log p((p + u) / 256) - log q(u | p) with u drawn per
// example from the forward stream, so a batch split in two at the matching offsets
// gives the same numbers; the dequantizer gets gradients through the bound.
BOOST_AUTO_TEST_CASE(composed_model_trains_through_its_dequantizer) {
  Generator gen(28, 0);
  FlowppConfig config = tiny_config();
  std::shared_ptr<Transform> flow = flowpp_transform(config, gen);
  std::shared_ptr<VariationalDequantizer> dequantizer = flowpp_dequantizer(config, gen);
  ComposedFlowOptions options;
  options.data_shape = {3, 4, 4};
  options.latent_shape = {12, 2, 2};
  options.scaling = layers::unit_scaling();
  ComposedFlowModel model(flow, std::make_shared<StandardNormal>(48), options, dequantizer);
  BOOST_TEST(model.learns_dequantization());
  BOOST_TEST(model.parameter_count() == flow->parameter_count() + dequantizer->parameter_count());
  model.to_dtype(DType::f64);
  Tensor pixel_values = pixels({4, 3, 4, 4}, 5, DType::f64);
  Tensor corners = unit_range(pixel_values);
  model.set_forward_generator(Generator(29, 1, 0));
  model.forward(corners, Tensor());  // ActNorm's data-dependent initialisation
  model.set_training(false);
  perturb_parameters(model, 30, 0.05);

  model.set_forward_generator(Generator(29, 1, 0));
  Tensor log_prob = model.forward(corners, Tensor()).log_prob;
  Generator by_hand(29, 1, 0);
  DequantizationSample d = dequantizer->sample(pixel_values, by_hand);
  TransformResult r = flow->forward(unit_range(add(pixel_values, d.u)), Tensor());
  Tensor expected = sub(add(layers::gaussian_log_prob(r.y, Tensor(), Tensor()), r.logabsdet), d.log_q);
  BOOST_TEST(max_abs_difference(log_prob, expected) < 1e-12);

  model.set_forward_generator(Generator(29, 1, 0));
  std::vector<double> head = model.forward(corners.slice(0, 0, 1).contiguous(), Tensor()).log_prob.to_double_vector();
  model.set_forward_generator(Generator(29, 1, 1));
  std::vector<double> rest = model.forward(corners.slice(0, 1, 4).contiguous(), Tensor()).log_prob.to_double_vector();
  head.insert(head.end(), rest.begin(), rest.end());
  std::vector<double> whole = log_prob.to_double_vector();
  for (size_t i = 0; i < 4; ++i) BOOST_TEST(std::abs(head[i] - whole[i]) < 1e-12, "example " << i);

  model.set_training(true);
  model.set_forward_generator(Generator(29, 2, 0));
  neg(mean(model.forward(corners, Tensor()).log_prob)).backward();
  double dequantizer_gradient = 0.0;
  for (auto& [name, p] : dequantizer->named_parameters())
    if (p.grad().defined()) dequantizer_gradient = std::max(dequantizer_gradient, max_abs(p.grad()));
  BOOST_TEST(dequantizer_gradient > 0.0);
  BOOST_TEST(std::isfinite(dequantizer_gradient));
}

BOOST_AUTO_TEST_CASE(training_gradients_are_finite) {
  Generator gen(19, 0);
  FlowppConfig config = tiny_config();
  std::shared_ptr<Transform> flow = flowpp_transform(config, gen);
  std::shared_ptr<VariationalDequantizer> dequantizer = flowpp_dequantizer(config, gen);
  Tensor x = pixels({2, 3, 4, 4}, 3, DType::f32);
  Generator noise(20, 0);
  DequantizationSample s = dequantizer->sample(x, noise);
  TransformResult r = flow->forward(unit_range(add(x, s.u)), Tensor());
  Tensor elbo = sub(add(layers::gaussian_log_prob(r.y, Tensor(), Tensor()), r.logabsdet), s.log_q);
  neg(mean(elbo)).backward();
  int64_t nonzero = 0;
  for (nn::Module* m : {static_cast<nn::Module*>(flow.get()), static_cast<nn::Module*>(dequantizer.get())})
    for (auto& [name, p] : m->named_parameters()) {
      Tensor g = p.grad();
      BOOST_REQUIRE_MESSAGE(g.defined(), "no gradient for " << name);
      BOOST_TEST(std::isfinite(max_abs(g)), name);
      nonzero += max_abs(g) > 0.0 ? 1 : 0;
    }
  BOOST_TEST(nonzero > 0);
  BOOST_TEST(std::isfinite(max_abs(elbo)));
}

BOOST_AUTO_TEST_CASE(bad_configs_and_shapes_name_the_key) {
  auto config_error = [](auto change) {
    FlowppConfig c = tiny_config();
    change(c);
    return ft::testing::error_message([&] { c.validate(); });
  };
  auto contains = [](const std::string& message, const std::string& part) {
    return message.find(part) != std::string::npos;
  };
  std::string e = config_error([](FlowppConfig& c) { c.components = 0; });
  BOOST_TEST(contains(e, "model.components must be >= 1, got 0"), e);
  e = config_error([](FlowppConfig& c) { c.filters = 10; c.heads = 4; });
  BOOST_TEST(contains(e, "model.filters 10 is not divisible by model.heads 4"), e);
  e = config_error([](FlowppConfig& c) { c.image_size = 6; c.scales = {{0, 1}, {0, 1}, {0, 1}}; });
  BOOST_TEST(contains(e, "model.image_size 6"), e);
  e = config_error([](FlowppConfig& c) { c.scales = {{1, 1}}; });
  BOOST_TEST(contains(e, "model.scales[0]"), e);
  e = config_error([](FlowppConfig& c) { c.scales = {}; });
  BOOST_TEST(contains(e, "model.scales"), e);
  e = config_error([](FlowppConfig& c) { c.dequant_filters = 0; });
  BOOST_TEST(contains(e, "model.dequant_filters"), e);
  Generator gen(21, 0);
  FlowppConfig bad = tiny_config();
  bad.components = -1;
  e = ft::testing::error_message([&] { flowpp_transform(bad, gen); });  // the builders validate
  BOOST_TEST(contains(e, "model.components"), e);

  FlowppCoupling coupling(ImageMask::checkerboard, 0, 2, 4, 4, tiny_coupling(), gen);
  e = ft::testing::error_message([&] { coupling.forward(Tensor::zeros({1, 3, 4, 4}), Tensor()); });
  BOOST_TEST(contains(e, "[N, 2, 4, 4] got input [1, 3, 4, 4]"), e);
  FlowppCoupling conditional(ImageMask::checkerboard, 0, 2, 4, 4, tiny_coupling(3), gen);
  e = ft::testing::error_message([&] { conditional.forward(Tensor::zeros({1, 2, 4, 4}), Tensor::zeros({1, 2, 4, 4})); });
  BOOST_TEST(contains(e, "context of [1, 3, 4, 4], got [1, 2, 4, 4]"), e);
  LogisticMixtureCoupling p = random_coupling({2, 3}, DType::f32);
  p.mixture.means = p.mixture.means.slice(2, 0, 2);
  e = ft::testing::error_message([&] { logistic_mixture_coupling(Tensor::zeros({2, 3}), p, false); });
  BOOST_TEST(contains(e, "means and log scales of [..., K]"), e);
  e = ft::testing::error_message([&] { logistic_mixture_coupling(Tensor::zeros({3, 2}), random_coupling({3, 2}, DType::f32), false); });
  BOOST_TEST(e == "no error");  // the same leading shapes
  LogisticMixtureCoupling q = random_coupling({2, 3}, DType::f32);
  q.mixture = random_coupling({3, 2}, DType::f32).mixture;
  e = ft::testing::error_message([&] { logistic_mixture_coupling(Tensor::zeros({2, 3}), q, false); });
  BOOST_TEST(contains(e, "over [2, 3] needs logits"), e);
}

BOOST_AUTO_TEST_CASE(cifar10_model_has_the_documented_parameter_count) {
  Generator gen(22, 0);
  FlowppConfig config = flowpp_cifar10_config();
  int64_t count = flowpp_transform(config, gen)->parameter_count() + flowpp_dequantizer(config, gen)->parameter_count();
  BOOST_TEST(count == 31875536);  // the reference's 31,443,440 + 1.4% (layers/flows/flowpp.h)
}

BOOST_AUTO_TEST_SUITE_END()
