// Glow: exact inverses, log-determinants against brute-force Jacobians in f64,
// ActNorm's data-dependent initialisation, priors and sampling.
#include <boost/test/unit_test.hpp>
#include <cmath>

#include "framework/ops/ops.h"
#include "layers/glow/flow_step.h"
#include "layers/glow/glow.h"
#include "layers/glow/squeeze.h"
#include "tests/layers/flow_testing.h"

using namespace ft;
using namespace ft::layers;
using ft::testing::jacobian;
using ft::testing::max_abs_difference;
using ft::testing::perturb_parameters;

namespace {

GlowConfig tiny_config(Coupling coupling, Permutation permutation, int64_t classes = 0) {
  GlowConfig c;
  c.channels = 2;
  c.image_size = 4;
  c.levels = 2;
  c.depth = 2;
  c.width = 6;
  c.coupling = coupling;
  c.permutation = permutation;
  c.num_classes = classes;
  return c;
}

Tensor input(const Shape& shape, uint64_t stream, DType dtype) {
  Generator gen(11, stream);
  return normal(shape, 0.0, 1.0, gen, dtype);
}

// Checks inverse(forward(x)) == x and logdet == log|det J| for one layer in f64.
void check_layer(const std::string& name, FlowLayer& layer, const Shape& shape) {
  BOOST_TEST_CONTEXT(name) {
    layer.to_dtype(DType::f64);
    perturb_parameters(layer, 5, 0.2);
    layer.set_training(false);
    Tensor x = input(shape, 1, DType::f64);
    FlowResult r = layer.forward(x);
    BOOST_TEST(max_abs_difference(layer.inverse(r.y), x) < 1e-10);
    // The inverse's own log-determinant (from y, no second forward) is minus the forward's.
    FlowResult back = layer.inverse_with_logdet(r.y);
    BOOST_TEST(max_abs_difference(back.y, x) < 1e-10);
    BOOST_TEST(max_abs_difference(back.logdet, neg(r.logdet)) < 1e-10);
    Tensor one = x.slice(0, 0, 1).contiguous();
    Tensor jac = jacobian([&](const Tensor& v) { return layer.forward(v).y; }, one);
    double brute = logabsdet(jac).item();
    BOOST_TEST(std::abs(layer.forward(one).logdet.item() - brute) < 1e-8, "logdet " << layer.forward(one).logdet.item()
                                                                                    << " brute force " << brute);
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(glow)

BOOST_AUTO_TEST_CASE(every_layer_inverts_and_has_the_true_logdet) {
  Generator gen(1, 0);
  Shape shape{2, 4, 3, 3};
  ActNorm actnorm(4);
  check_layer("actnorm", actnorm, shape);
  InvertibleConv1x1 lu(4, Permutation::lu, gen);
  check_layer("invconv lu", lu, shape);
  InvertibleConv1x1 plain(4, Permutation::plain, gen);
  check_layer("invconv plain", plain, shape);
  CouplingLayer affine(4, 5, Coupling::affine, gen);
  check_layer("affine coupling", affine, shape);
  CouplingLayer additive(4, 5, Coupling::additive, gen);
  check_layer("additive coupling", additive, shape);
  Squeeze squeeze;
  check_layer("squeeze", squeeze, {2, 2, 4, 4});
  FlowStep step(4, tiny_config(Coupling::affine, Permutation::lu), gen);
  check_layer("flow step", step, shape);
}

BOOST_AUTO_TEST_CASE(lu_initialisation_is_a_rotation) {
  Generator gen(2, 0);
  InvertibleConv1x1 conv(8, Permutation::lu, gen);
  Tensor w = conv.weight_matrix().to(DType::f64);
  Tensor wwt = matmul(w, w.transpose(0, 1));
  std::vector<double> v = wwt.to_double_vector();
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 8; ++j) BOOST_TEST_REQUIRE(std::abs(v[size_t(i * 8 + j)] - (i == j ? 1.0 : 0.0)) < 1e-5);
  BOOST_TEST(std::abs(conv.log_abs_det().item()) < 1e-5);
}

BOOST_AUTO_TEST_CASE(invertible_conv_moves_with_its_masks) {
  Generator gen(4, 0);
  InvertibleConv1x1 conv(4, Permutation::lu, gen);
  Tensor x = input({2, 4, 3, 3}, 5, DType::f32);
  Tensor on_cpu = conv.forward(x).y;
  conv.to(Device::cpu(1));  // the masks too, or forward mixes devices and throws
  Tensor moved = conv.forward(x.to(Device::cpu(1))).y;
  BOOST_TEST(moved.device().str() == "cpu:1");
  BOOST_TEST(moved.to(Device::cpu()).to_double_vector() == on_cpu.to_double_vector(), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(actnorm_initialises_to_zero_mean_unit_std) {
  ActNorm actnorm(3);
  Tensor x = add(mul(input({8, 3, 5, 5}, 2, DType::f32), 3.0), 1.5);
  BOOST_TEST(!actnorm.is_initialized());
  Tensor y = actnorm.forward(x).y.to(DType::f64);
  BOOST_TEST(actnorm.is_initialized());
  Tensor mean = ft::mean(y, {0, 2, 3});
  Tensor std = sqrt(ft::mean(square(sub(y, ft::mean(y, {0, 2, 3}, true))), {0, 2, 3}));
  for (double m : mean.to_double_vector()) BOOST_TEST(std::abs(m) < 1e-5);
  for (double s : std.to_double_vector()) BOOST_TEST(std::abs(s - 1.0) < 1e-4);
  // Initialised once: a second batch does not re-initialise.
  std::vector<double> logs = actnorm.logs.to_double_vector();
  actnorm.forward(mul(x, 10.0));
  BOOST_TEST(actnorm.logs.to_double_vector() == logs, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(actnorm_averages_statistics_across_replicas) {
  // Replica a sees the first half of a batch; its averager plays all-reduce with
  // replica b, which holds the second half. The result must equal one ActNorm
  // initialised on the whole batch.
  Tensor x = add(mul(input({8, 2, 3, 3}, 3, DType::f64), 2.0), -1.0);
  Tensor half_b = x.slice(0, 4, 8);
  ActNorm whole(2), a(2);
  whole.to_dtype(DType::f64);
  a.to_dtype(DType::f64);
  whole.forward(x);
  int call = 0;
  a.set_statistics_averager([&](Tensor& s) {
    Tensor other;
    if (call++ == 0) {
      other = ft::mean(half_b, {0, 2, 3}, true);  // b's mean
    } else {
      Tensor global_mean = ft::mean(x, {0, 2, 3}, true);  // what the first average gave both
      other = ft::mean(square(sub(half_b, global_mean)), {0, 2, 3}, true);
    }
    s.copy_(mul(add(s, other), 0.5));
  });
  a.forward(x.slice(0, 0, 4));
  BOOST_TEST(call == 2);
  BOOST_TEST(max_abs_difference(a.bias, whole.bias) < 1e-12);
  BOOST_TEST(max_abs_difference(a.logs, whole.logs) < 1e-12);
}

BOOST_AUTO_TEST_CASE(model_inverts_exactly_in_f32_and_f64) {
  for (auto coupling : {Coupling::affine, Coupling::additive}) {
    for (auto dtype : {DType::f32, DType::f64}) {
      Generator gen(3, 0);
      Glow model(tiny_config(coupling, Permutation::lu), gen);
      Tensor x = mul(input({3, 2, 4, 4}, 4, dtype), 0.3);
      if (dtype == DType::f64) model.to_dtype(DType::f64);
      model.forward(x, Tensor());  // data-dependent init
      perturb_parameters(model, 9, 0.05);
      model.set_training(false);
      ModelOutput out = model.forward(x, Tensor());
      Tensor back = model.reconstruct(out.latents, Tensor());
      double tolerance = dtype == DType::f64 ? 1e-10 : 1e-5;
      BOOST_TEST(max_abs_difference(back, x) < tolerance, coupling_name(coupling) << " " << dtype_name(dtype));
    }
  }
}

BOOST_AUTO_TEST_CASE(model_log_prob_is_prior_plus_brute_force_logdet) {
  Generator gen(4, 0);
  Glow model(tiny_config(Coupling::affine, Permutation::plain, 3), gen);
  model.to_dtype(DType::f64);
  Tensor batch = mul(input({8, 2, 4, 4}, 5, DType::f64), 0.3);
  Tensor x = batch.slice(0, 0, 1).contiguous();
  Tensor label = Tensor::from_vector<int64_t>({2}, {1});
  model.forward(batch, Tensor::from_vector<int64_t>({0, 1, 2, 0, 1, 2, 0, 1}, {8}));  // data-dependent init
  perturb_parameters(model, 10, 0.05);
  model.set_training(false);
  ModelOutput out = model.forward(x, label);
  // log p(x) = sum log N(eps; 0, I) + log|det d eps / dx| with eps all latents.
  Tensor jac = jacobian([&](const Tensor& v) {
    std::vector<Tensor> flat;
    for (const Tensor& e : model.forward(v, label).latents) flat.push_back(e.reshape({-1}));
    return concat(flat, 0);
  }, x);
  double prior = 0.0;
  for (const Tensor& e : out.latents) prior += layers::gaussian_log_prob(e, Tensor(), Tensor()).item();
  double expected = prior + logabsdet(jac).item();
  BOOST_TEST(std::abs(out.log_prob.item() - expected) < 1e-8, out.log_prob.item() << " vs " << expected);
}

BOOST_AUTO_TEST_CASE(sampling_and_conditioning) {
  Generator gen(5, 0);
  Glow model(tiny_config(Coupling::affine, Permutation::lu, 4), gen);
  Tensor labels = Tensor::from_vector<int64_t>({0, 3}, {2});
  model.forward(mul(input({2, 2, 4, 4}, 6, DType::f32), 0.3), labels);
  perturb_parameters(model, 11, 0.05);
  model.set_training(false);
  SampleOptions cold;
  cold.temperature = 0.0;
  cold.labels = labels;
  Generator s1(1, 1), s2(2, 1);
  // At temperature 0 every latent is its prior mean: the sample is deterministic.
  BOOST_TEST(max_abs_difference(model.sample(2, cold, s1), model.sample(2, cold, s2)) == 0.0);
  SampleOptions warm = cold;
  warm.temperature = 0.7;
  Tensor x = model.sample(2, warm, s1);
  BOOST_TEST((x.shape() == Shape{2, 2, 4, 4}));
  // The conditional prior depends on the label.
  Tensor other = Tensor::from_vector<int64_t>({1, 2}, {2});
  BOOST_TEST(max_abs_difference(model.forward(x, labels).log_prob, model.forward(x, other).log_prob) > 1e-6);
  BOOST_CHECK_THROW(model.forward(x, Tensor::from_vector<int64_t>({0, 4}, {2})), Error);
  BOOST_CHECK_THROW(model.forward(Tensor::zeros({2, 3, 4, 4}), labels), Error);
}

BOOST_AUTO_TEST_CASE(config_errors_name_the_key) {
  GlowConfig c = tiny_config(Coupling::affine, Permutation::lu);
  c.image_size = 6;
  try {
    c.validate();
    BOOST_FAIL("expected an error");
  } catch (const Error& e) {
    BOOST_TEST(std::string(e.what()).find("model.image_size") != std::string::npos);
  }
  BOOST_CHECK_THROW(coupling_from_name("multiplicative"), Error);
}

BOOST_AUTO_TEST_SUITE_END()
