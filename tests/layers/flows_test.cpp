// The composable flow library (layers/flows/): every transform inverts exactly in f32
// and f64 and reports the brute-force log|det J| (f64, Jacobian by autograd), with and
// without context; Flow's log_prob, sampling and context errors.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <functional>
#include <memory>
#include <string>

#include "framework/ops/ops.h"
#include "layers/flows/batch_norm.h"
#include "layers/flows/coupling.h"
#include "layers/flows/diagonal_scaling.h"
#include "layers/flows/flow.h"
#include "layers/flows/lu_linear.h"
#include "layers/flows/masked_autoregressive.h"
#include "layers/flows/permutation.h"
#include "layers/flows/planar.h"
#include "layers/flows/radial.h"
#include "tests/framework/gradcheck.h"
#include "tests/layers/flow_testing.h"

using namespace ft;
using namespace ft::layers::flows;
using ft::testing::jacobian;
using ft::testing::max_abs_difference;
using ft::testing::perturb_parameters;

namespace {

constexpr int64_t kFeatures = 5, kContext = 3;

using Factory = std::function<std::shared_ptr<Transform>(Generator&)>;

Tensor input(const Shape& shape, uint64_t stream, DType dtype) {
  Generator gen(21, stream);
  return normal(shape, 0.0, 1.0, gen, dtype);
}

// inverse(forward(x)) == x, the inverse's logabsdet is the negated forward one, and
// (f64) the forward logabsdet of each example equals log|det dz/dx| by autograd.
void check_transform(const std::string& name, const Factory& make, int64_t context_features) {
  for (DType dtype : {DType::f32, DType::f64}) {
    BOOST_TEST_CONTEXT(name << " " << dtype_name(dtype)) {
      Generator gen(3, 0);
      std::shared_ptr<Transform> t = make(gen);
      t->to_dtype(dtype);
      perturb_parameters(*t, 8, 0.1);
      t->set_training(false);  // batch norm inverts with running statistics
      Tensor x = input({4, kFeatures}, 1, dtype);
      Tensor context = context_features > 0 ? input({4, context_features}, 2, dtype) : Tensor();
      TransformResult forward = t->forward(x, context);
      TransformResult back = t->inverse(forward.y, context);
      double tolerance = dtype == DType::f64 ? 1e-10 : 1e-5;
      BOOST_TEST(max_abs_difference(back.y, x) < tolerance);
      BOOST_TEST(max_abs_difference(add(back.logabsdet, forward.logabsdet), Tensor::zeros({4}, dtype)) < tolerance);
      if (dtype != DType::f64) continue;
      std::vector<double> logdets = forward.logabsdet.to_double_vector();
      for (int64_t n = 0; n < x.size(0); ++n) {
        Tensor one = x.slice(0, n, n + 1).contiguous();
        Tensor c = context.defined() ? context.slice(0, n, n + 1).contiguous() : Tensor();
        double brute = logabsdet(jacobian([&](const Tensor& v) { return t->forward(v, c).y; }, one)).item();
        BOOST_TEST(std::abs(logdets[size_t(n)] - brute) < 1e-9, "example " << n << ": " << logdets[size_t(n)]
                                                                           << " vs brute force " << brute);
      }
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(flows)

BOOST_AUTO_TEST_CASE(couplings_invert_with_the_true_logdet) {
  for (auto kind : {CouplingKind::additive, CouplingKind::affine})
    for (int64_t ctx : {int64_t(0), kContext}) {
      std::string name = std::string(kind == CouplingKind::affine ? "affine" : "additive") + " coupling, context " +
                         std::to_string(ctx);
      check_transform(name, [&](Generator& gen) {
        return std::make_shared<CouplingTransform>(alternating_mask(kFeatures, ctx == 0), kind, 7, 2, ctx, gen);
      }, ctx);
    }
}

BOOST_AUTO_TEST_CASE(nice_and_permutations_invert_with_the_true_logdet) {
  check_transform("NICE: additive couplings and diagonal scaling", [](Generator& gen) {
    return std::make_shared<CompositeTransform>(std::vector<std::shared_ptr<Transform>>{
        std::make_shared<CouplingTransform>(alternating_mask(kFeatures, true), CouplingKind::additive, 6, 1, 0, gen),
        std::make_shared<CouplingTransform>(alternating_mask(kFeatures, false), CouplingKind::additive, 6, 1, 0, gen),
        std::make_shared<DiagonalScaling>(kFeatures)});
  }, 0);
  check_transform("reverse permutation", [](Generator&) { return std::make_shared<Permutation>(reverse_order(kFeatures)); }, 0);
  check_transform("random permutation", [](Generator& gen) {
    return std::make_shared<Permutation>(random_order(kFeatures, gen));
  }, 0);
}

BOOST_AUTO_TEST_CASE(lu_linear_and_batch_norm_invert_with_the_true_logdet) {
  check_transform("LU linear", [](Generator& gen) { return std::make_shared<LULinear>(kFeatures, gen); }, 0);
  check_transform("batch norm (eval)", [](Generator&) {
    auto norm = std::make_shared<BatchNormTransform>(kFeatures);
    norm->forward(add(mul(input({16, kFeatures}, 9, DType::f32), 2.0), 0.5), Tensor());  // running statistics
    return norm;
  }, 0);
}

BOOST_AUTO_TEST_CASE(batch_norm_uses_batch_statistics_in_training) {
  BatchNormTransform norm(kFeatures, 1e-5, 0.25);
  norm.to_dtype(DType::f64);
  perturb_parameters(norm, 3, 0.2);
  Tensor x = add(mul(input({32, kFeatures}, 10, DType::f64), 3.0), -1.0);
  TransformResult r = norm.forward(x, Tensor());
  // Normalised by the batch: (z - bias) / weight has mean 0 and unbiased variance ~1.
  Tensor standardised = div(sub(r.y, norm.bias), norm.weight());
  for (double m : mean(standardised, {0}).to_double_vector()) BOOST_TEST(std::abs(m) < 1e-12);
  Tensor variance = mul(sum(square(standardised), {0}), 1.0 / 31.0);
  for (double v : variance.to_double_vector()) BOOST_TEST(std::abs(v - 1.0) < 1e-5);
  Tensor batch_variance = mul(sum(square(sub(x, mean(x, {0}))), {0}), 1.0 / 31.0);
  double expected = sum(sub(log(norm.weight()), mul(log(add(batch_variance, 1e-5)), 0.5))).item();
  BOOST_TEST(std::abs(r.logabsdet.to_double_vector()[0] - expected) < 1e-12);
  // Running statistics moved a quarter of the way from (0, 1) to the batch's.
  BOOST_TEST(max_abs_difference(norm.running_var, add(mul(batch_variance, 0.25), 0.75)) < 1e-12);
  BOOST_CHECK_THROW(norm.inverse(r.y, Tensor()), Error);
}

BOOST_AUTO_TEST_CASE(maf_and_iaf_invert_with_the_true_logdet) {
  for (int64_t ctx : {int64_t(0), kContext}) {
    check_transform("MAF, context " + std::to_string(ctx), [&](Generator& gen) {
      return std::make_shared<CompositeTransform>(std::vector<std::shared_ptr<Transform>>{
          std::make_shared<MaskedAffineAutoregressive>(kFeatures, 8, 2, ctx, gen),
          std::make_shared<Permutation>(reverse_order(kFeatures)),
          std::make_shared<MaskedAffineAutoregressive>(kFeatures, 8, 1, ctx, gen)});
    }, ctx);
    check_transform("IAF, context " + std::to_string(ctx), [&](Generator& gen) {
      return make_iaf(kFeatures, 8, 2, ctx, gen);
    }, ctx);
  }
}

BOOST_AUTO_TEST_CASE(splines_invert_with_the_true_logdet) {
  // Tail bound 1.5: x ~ N(0, 1) puts elements on both sides, so the tails are exercised.
  SplineOptions spline{4, 1.5};
  for (int64_t ctx : {int64_t(0), kContext}) {
    check_transform("rational-quadratic coupling, context " + std::to_string(ctx), [&](Generator& gen) {
      return std::make_shared<CouplingTransform>(alternating_mask(kFeatures, true), CouplingKind::rational_quadratic, 6,
                                                 2, ctx, gen, spline);
    }, ctx);
    check_transform("rational-quadratic autoregressive, context " + std::to_string(ctx), [&](Generator& gen) {
      return std::make_shared<MaskedRationalQuadraticAutoregressive>(kFeatures, 8, 2, ctx, spline, gen);
    }, ctx);
  }
}

BOOST_AUTO_TEST_CASE(spline_gradients_are_finite_on_both_sides_of_the_tails) {
  Generator gen(12, 0);
  MaskedRationalQuadraticAutoregressive t(3, 6, 1, 0, SplineOptions{3, 1.0}, gen);
  t.to_dtype(DType::f64);
  perturb_parameters(t, 6, 0.5);
  ft::testing::check_gradients("spline forward", [&](const std::vector<Tensor>& in) {
    TransformResult r = t.forward(in[0], Tensor());
    return concat({r.y.reshape({-1}), r.logabsdet}, 0);
  }, {ft::testing::leaf({4, 3}, 4, -2.0, 2.0)});
  ft::testing::check_gradients("spline inverse", [&](const std::vector<Tensor>& in) {
    TransformResult r = t.inverse(in[0], Tensor());
    return concat({r.y.reshape({-1}), r.logabsdet}, 0);
  }, {ft::testing::leaf({4, 3}, 5, -2.0, 2.0)});
}

BOOST_AUTO_TEST_CASE(made_outputs_depend_only_on_earlier_features) {
  Generator gen(4, 0);
  MADE made(kFeatures, 9, 2, 3, 0, gen);
  made.to_dtype(DType::f64);
  Tensor jac = jacobian([&](const Tensor& v) { return made.forward(v, Tensor()); }, input({1, kFeatures}, 3, DType::f64));
  std::vector<double> j = jac.to_double_vector();
  double allowed = 0.0;
  for (int64_t out = 0; out < kFeatures * 3; ++out)
    for (int64_t in = 0; in < kFeatures; ++in) {
      double v = std::abs(j[size_t(out * kFeatures + in)]);
      if (in >= out / 3) BOOST_TEST_REQUIRE(v == 0.0, "output " << out << " sees input " << in);
      else allowed = std::max(allowed, v);
    }
  BOOST_TEST(allowed > 0.0);  // the allowed connections are really there
}

BOOST_AUTO_TEST_CASE(planar_and_radial_invert_with_the_true_logdet) {
  check_transform("planar", [](Generator& gen) { return std::make_shared<PlanarFlow>(kFeatures, gen); }, 0);
  check_transform("radial", [](Generator& gen) { return std::make_shared<RadialFlow>(kFeatures, gen); }, 0);
}

BOOST_AUTO_TEST_CASE(planar_inverse_holds_near_the_invertibility_limit) {
  // w.u very negative: w.u_hat -> -1, the 1-D equation is nearly flat around its root.
  for (double c : {-0.999999, -0.5, 0.0, 3.0, 50.0})
    for (double t : {-4.0, -1e-3, 0.0, 0.7, 9.0}) {
      double a = solve_planar_root(c, t);
      BOOST_TEST(std::abs(a + c * std::tanh(a) - t) < 1e-12, "c " << c << " t " << t << " root " << a);
    }
}

BOOST_AUTO_TEST_CASE(gradients_through_forward_and_inverse_match_finite_differences) {
  Generator gen(5, 0);
  PlanarFlow planar(3, gen);
  planar.to_dtype(DType::f64);
  perturb_parameters(planar, 2, 0.3);
  // The inverse's root comes from a host solver; its gradient from one Newton step.
  ft::testing::check_gradients("planar inverse", [&](const std::vector<Tensor>& in) {
    TransformResult r = planar.inverse(in[0], Tensor());
    return concat({r.y.reshape({-1}), r.logabsdet}, 0);
  }, {ft::testing::leaf({2, 3}, 1)});
  MaskedAffineAutoregressive maf(3, 6, 1, 2, gen);
  maf.to_dtype(DType::f64);
  ft::testing::check_gradients("MAF inverse (IAF density)", [&](const std::vector<Tensor>& in) {
    TransformResult r = maf.inverse(in[0], in[1]);
    return concat({r.y.reshape({-1}), r.logabsdet}, 0);
  }, {ft::testing::leaf({2, 3}, 2), ft::testing::leaf({2, 2}, 3)});
}

BOOST_AUTO_TEST_CASE(flow_log_prob_is_base_plus_brute_force_logdet) {
  Generator gen(6, 0);
  auto transform = std::make_shared<CompositeTransform>(std::vector<std::shared_ptr<Transform>>{
      std::make_shared<CouplingTransform>(alternating_mask(kFeatures, true), CouplingKind::affine, 6, 1, kContext, gen),
      std::make_shared<MaskedAffineAutoregressive>(kFeatures, 8, 1, kContext, gen)});
  auto base = std::make_shared<ConditionalDiagonalNormal>(
      kFeatures, std::make_shared<DenseNetwork>(kContext, 0, 6, 1, 2 * kFeatures, gen));
  Flow flow(transform, base);
  flow.to_dtype(DType::f64);
  perturb_parameters(flow, 3, 0.1);
  Tensor x = input({1, kFeatures}, 4, DType::f64), c = input({1, kContext}, 5, DType::f64);
  Tensor z = flow.transform_to_noise(x, c);
  double brute = logabsdet(jacobian([&](const Tensor& v) { return flow.transform_to_noise(v, c); }, x)).item();
  double expected = base->log_prob(z, c).item() + brute;
  BOOST_TEST(std::abs(flow.log_prob(x, c).item() - expected) < 1e-9);

  // Samples: n per context row, and sample_and_log_prob's density is log_prob's.
  Tensor contexts = input({2, kContext}, 6, DType::f64);
  Generator sampler(7, 1);
  SampleAndLogProb s = flow.sample_and_log_prob(3, contexts, sampler);
  BOOST_TEST((s.x.shape() == Shape{6, kFeatures}));
  BOOST_TEST(max_abs_difference(s.log_prob, flow.log_prob(s.x, repeat_rows(contexts, 3))) < 1e-9);
}

BOOST_AUTO_TEST_CASE(unconditional_flows_sample_from_their_base) {
  Generator gen(8, 0);
  auto base = std::make_shared<DiagonalNormal>(kFeatures);
  Flow flow(std::make_shared<RadialFlow>(kFeatures, gen), base);
  flow.to_dtype(DType::f64);
  perturb_parameters(flow, 4, 0.2);
  Generator sampler(9, 1);
  SampleAndLogProb s = flow.sample_and_log_prob(4, Tensor(), sampler);
  BOOST_TEST((s.x.shape() == Shape{4, kFeatures}));
  BOOST_TEST(max_abs_difference(s.log_prob, flow.log_prob(s.x)) < 1e-9);
  Flow standard(std::make_shared<Permutation>(reverse_order(2)), std::make_shared<StandardNormal>(2));
  Tensor zero = Tensor::zeros({1, 2}, DType::f64);
  BOOST_TEST(std::abs(standard.log_prob(zero).item() + std::log(2.0 * M_PI)) < 1e-12);
}

BOOST_AUTO_TEST_CASE(a_context_of_the_wrong_size_names_the_sizes) {
  Generator gen(10, 0);
  MaskedAffineAutoregressive maf(kFeatures, 8, 1, kContext, gen);
  Tensor x = input({4, kFeatures}, 1, DType::f32);
  auto message = [&](const Tensor& context) {
    try {
      maf.forward(x, context);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  BOOST_TEST(message(Tensor::zeros({4, 2})).find("[4, 2] where [4, 3] was expected") != std::string::npos,
             message(Tensor::zeros({4, 2})));
  BOOST_TEST(message(Tensor()).find("needs a context of [4, 3], got none") != std::string::npos, message(Tensor()));
  CouplingTransform plain(alternating_mask(kFeatures, true), CouplingKind::affine, 4, 1, 0, gen);
  BOOST_CHECK_THROW(plain.forward(x, Tensor::zeros({4, 3})), Error);
}

BOOST_AUTO_TEST_SUITE_END()
