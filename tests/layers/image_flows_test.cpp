// RealNVP's image flows in layers/flows/: image couplings (checkerboard and channel
// masks, affine and additive), image batch norm, the multiscale container with either
// prior and the realnvp_transform builder. Each inverts exactly in f32 and f64 and
// reports the brute-force log|det J| (f64, Jacobian by autograd) on tiny images.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <functional>
#include <memory>
#include <string>

#include "framework/nn/weight_norm_conv2d.h"
#include "framework/ops/ops.h"
#include "layers/flows/batch_norm.h"
#include "layers/flows/flow.h"
#include "layers/flows/flow_layer_transform.h"
#include "layers/flows/image_coupling.h"
#include "layers/flows/multiscale.h"
#include "layers/flows/realnvp.h"
#include "layers/glow/flow_step.h"
#include "layers/glow/glow.h"
#include "layers/glow/priors.h"
#include "layers/glow/squeeze.h"
#include "tests/framework/gradcheck.h"
#include "tests/layers/flow_testing.h"
#include "tests/support/error_message.h"

using namespace ft;
using namespace ft::layers::flows;
using ft::testing::compare;
using ft::testing::jacobian;
using ft::testing::max_abs;
using ft::testing::max_abs_difference;
using ft::testing::perturb_parameters;

namespace {

using Factory = std::function<std::shared_ptr<Transform>(Generator&)>;
using Transforms = std::vector<std::shared_ptr<Transform>>;

Tensor input(const Shape& shape, uint64_t stream, DType dtype) {
  Generator gen(31, stream);
  return normal(shape, 0.0, 1.0, gen, dtype);
}

// Random parameters and running statistics (one training pass over a shifted,
// scaled batch), then eval mode: batch norm inverts with its running statistics.
void randomise(Transform& t, const Shape& batch, DType dtype) {
  t.to_dtype(dtype);
  perturb_parameters(t, 8, 0.1);
  t.set_training(true);
  t.forward(add(mul(input(batch, 9, dtype), 1.5), 0.3), Tensor());
  t.set_training(false);
}

// inverse(forward(x)) == x, the inverse's logabsdet is the negated forward one, and
// (f64) each example's forward logabsdet equals log|det dz/dx| by autograd.
void check_image_transform(const std::string& name, const Factory& make, const Shape& batch) {
  for (DType dtype : {DType::f32, DType::f64}) {
    BOOST_TEST_CONTEXT(name << " " << dtype_name(dtype)) {
      Generator gen(3, 0);
      std::shared_ptr<Transform> t = make(gen);
      randomise(*t, batch, dtype);
      Tensor x = input(batch, 1, dtype);
      TransformResult forward = t->forward(x, Tensor());
      TransformResult back = t->inverse(forward.y, Tensor());
      double tolerance = dtype == DType::f64 ? 1e-10 : 1e-5;
      BOOST_TEST(compare(back.y, x).error < tolerance);
      BOOST_TEST(compare(neg(back.logabsdet), forward.logabsdet).error < tolerance);
      BOOST_TEST(max_abs_difference(forward.y, x) > 1e-3, "the transform is not the identity");
      if (dtype != DType::f64) continue;
      std::vector<double> logdets = forward.logabsdet.to_double_vector();
      for (int64_t n = 0; n < x.size(0); ++n) {
        Tensor one = x.slice(0, n, n + 1).contiguous();
        double brute = logabsdet(jacobian([&](const Tensor& v) { return t->forward(v, Tensor()).y; }, one)).item();
        BOOST_TEST(std::abs(logdets[size_t(n)] - brute) < 1e-9, "example " << n << ": " << logdets[size_t(n)]
                                                                           << " vs brute force " << brute);
      }
    }
  }
}

ImageCouplingOptions tiny_coupling(ImageMask mask, int parity, CouplingKind kind) {
  return {mask, parity, kind, 4, 1};
}

RealNvpConfig tiny_realnvp() {
  RealNvpConfig config;
  config.channels = 2;
  config.image_size = 4;
  config.scales = 2;
  config.res_blocks = 1;
  config.features = 3;
  return config;
}

// [2, 4, 4] -> level 0: checkerboard coupling, squeeze, channel coupling -> [8, 2, 2],
// half factored out -> level 1: checkerboard coupling on [4, 2, 2].
std::shared_ptr<MultiscaleTransform> tiny_multiscale(MultiscalePrior split, MultiscalePrior top, Generator& gen) {
  auto coupling = [&](const Shape& image, ImageMask mask) {
    return std::make_shared<ImageCouplingTransform>(image, tiny_coupling(mask, 0, CouplingKind::affine), gen);
  };
  std::vector<MultiscaleLevel> levels;
  levels.push_back({std::make_shared<CompositeTransform>(Transforms{
                        coupling({2, 4, 4}, ImageMask::checkerboard),
                        std::make_shared<FlowLayerTransform>(std::make_shared<layers::Squeeze>()),
                        coupling({8, 2, 2}, ImageMask::channel)}),
                    {8, 2, 2}});
  levels.push_back({coupling({4, 2, 2}, ImageMask::checkerboard), {4, 2, 2}});
  return std::make_shared<MultiscaleTransform>(Shape{2, 4, 4}, std::move(levels), split, top, gen);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(image_flows)

BOOST_AUTO_TEST_CASE(image_couplings_invert_with_the_true_logdet) {
  for (ImageMask mask : {ImageMask::checkerboard, ImageMask::channel})
    for (CouplingKind kind : {CouplingKind::affine, CouplingKind::additive})
      for (int parity : {0, 1}) {
        std::string name = std::string(image_mask_name(mask)) +
                           (kind == CouplingKind::affine ? " affine" : " additive") + " coupling, parity " +
                           std::to_string(parity);
        check_image_transform(name, [&](Generator& gen) {
          return std::make_shared<ImageCouplingTransform>(Shape{4, 4, 4}, tiny_coupling(mask, parity, kind), gen);
        }, {2, 4, 4, 4});
      }
}

BOOST_AUTO_TEST_CASE(image_couplings_change_only_the_unmasked_entries) {
  Generator gen(4, 0);
  for (ImageMask mask : {ImageMask::checkerboard, ImageMask::channel}) {
    ImageCouplingTransform coupling({4, 4, 4}, tiny_coupling(mask, 1, CouplingKind::affine), gen);
    Tensor x = input({2, 4, 4, 4}, 2, DType::f32);
    BOOST_TEST(max_abs_difference(coupling.forward(x, Tensor()).y, x) == 0.0, "a new coupling is the identity");
    perturb_parameters(coupling, 5, 0.2);
    Tensor kept = image_mask(mask, 1, 4, 4, 4);
    Tensor y = coupling.forward(x, Tensor()).y;
    BOOST_TEST(max_abs_difference(mul(y, kept), mul(x, kept)) == 0.0, image_mask_name(mask));
    Tensor changed = add(neg(kept), 1.0);
    BOOST_TEST(max_abs(sub(mul(y, changed), mul(x, changed))) > 1e-3, image_mask_name(mask));
  }
}

BOOST_AUTO_TEST_CASE(image_coupling_gradients_match_finite_differences) {
  for (ImageMask mask : {ImageMask::checkerboard, ImageMask::channel}) {
    Generator gen(17, 0);
    ImageCouplingTransform coupling({2, 2, 2}, tiny_coupling(mask, 1, CouplingKind::affine), gen);
    randomise(coupling, {2, 2, 2, 2}, DType::f64);
    for (bool inverse : {false, true})
      ft::testing::check_gradients(std::string(image_mask_name(mask)) + (inverse ? " inverse" : " forward"),
                                   [&](const std::vector<Tensor>& in) {
                                     TransformResult r = inverse ? coupling.inverse(in[0], Tensor())
                                                                 : coupling.forward(in[0], Tensor());
                                     return concat({r.y.reshape({-1}), r.logabsdet}, 0);
                                   },
                                   {ft::testing::leaf({2, 2, 2, 2}, inverse ? 9 : 8)});
  }
}

BOOST_AUTO_TEST_CASE(image_batch_norm_inverts_with_the_true_logdet) {
  check_image_transform("image batch norm (eval)", [](Generator&) { return std::make_shared<BatchNormTransform>(3); },
                        {2, 3, 2, 4});
}

BOOST_AUTO_TEST_CASE(image_batch_norm_uses_the_batch_in_training_and_running_statistics_in_eval) {
  BatchNormTransform norm(3, 1e-5, 0.25);
  norm.to_dtype(DType::f64);
  perturb_parameters(norm, 3, 0.2);
  Tensor x = add(mul(input({6, 3, 2, 4}, 10, DType::f64), 3.0), -1.0);
  TransformResult r = norm.forward(x, Tensor());
  // Per channel over (N, H, W): (z - bias) / weight has mean 0 and unbiased variance 1.
  Tensor standardised = div(sub(r.y, norm.bias.reshape({1, 3, 1, 1})), norm.weight().reshape({1, 3, 1, 1}));
  for (double m : mean(standardised, {0, 2, 3}).to_double_vector()) BOOST_TEST(std::abs(m) < 1e-12);
  double count = 6 * 2 * 4;
  Tensor batch_mean = mean(x, {0, 2, 3});
  Tensor batch_variance = mul(sum(square(sub(x, batch_mean.reshape({1, 3, 1, 1}))), {0, 2, 3}), 1.0 / (count - 1));
  Tensor variance = mul(sum(square(standardised), {0, 2, 3}), 1.0 / (count - 1));
  for (double v : variance.to_double_vector()) BOOST_TEST(std::abs(v - 1.0) < 1e-5);
  double expected = 8.0 * sum(sub(log(norm.weight()), mul(log(add(batch_variance, 1e-5)), 0.5))).item();
  for (double logdet : r.logabsdet.to_double_vector()) BOOST_TEST(std::abs(logdet - expected) < 1e-10);
  // Running statistics moved a quarter of the way from (0, 1) to the batch's, and are
  // buffers, so a state dict (and a checkpoint) holds them.
  BOOST_TEST(max_abs_difference(norm.running_mean, mul(batch_mean, 0.25)) < 1e-12);
  BOOST_TEST(max_abs_difference(norm.running_var, add(mul(batch_variance, 0.25), 0.75)) < 1e-12);
  auto state = norm.state_dict();
  BOOST_TEST(state.count("running_mean") == 1);
  BOOST_TEST(state.count("running_var") == 1);
  // Eval: the running statistics, whatever the batch; and they stay put.
  norm.set_training(false);
  Tensor other = input({2, 3, 2, 4}, 11, DType::f64);
  Tensor scale = div(norm.weight(), sqrt(add(norm.running_var, 1e-5))).reshape({1, 3, 1, 1});
  Tensor expected_z =
      add(mul(sub(other, norm.running_mean.reshape({1, 3, 1, 1})), scale), norm.bias.reshape({1, 3, 1, 1}));
  Tensor running_before = norm.running_var.clone();
  BOOST_TEST(max_abs_difference(norm.forward(other, Tensor()).y, expected_z) < 1e-12);
  BOOST_TEST(max_abs_difference(norm.running_var, running_before) == 0.0);
}

BOOST_AUTO_TEST_CASE(a_mask_or_input_that_does_not_fit_names_the_shape) {
  Generator gen(5, 0);
  std::string odd = ft::testing::error_message([&] {
    ImageCouplingTransform({3, 4, 4}, tiny_coupling(ImageMask::channel, 0, CouplingKind::affine), gen);
  });
  BOOST_TEST(odd.find("3 channels") != std::string::npos, odd);
  std::string single = ft::testing::error_message([&] {
    ImageCouplingTransform({2, 1, 1}, tiny_coupling(ImageMask::checkerboard, 0, CouplingKind::affine), gen);
  });
  BOOST_TEST(single.find("1x1") != std::string::npos, single);
  ImageCouplingTransform coupling({4, 4, 4}, tiny_coupling(ImageMask::checkerboard, 0, CouplingKind::additive), gen);
  std::string wrong = ft::testing::error_message([&] { coupling.forward(Tensor::zeros({2, 4, 4, 2}), Tensor()); });
  BOOST_TEST(wrong.find("[2, 4, 4, 2]") != std::string::npos, wrong);
  BOOST_CHECK_THROW(coupling.forward(Tensor::zeros({2, 4, 4, 4}), Tensor::zeros({2, 1})), Error);
  // A multiscale level that gives an odd channel count cannot factor out half.
  std::string split = ft::testing::error_message([&] {
    std::vector<MultiscaleLevel> levels{{std::make_shared<BatchNormTransform>(3), {3, 2, 2}},
                                        {std::make_shared<BatchNormTransform>(1), {1, 2, 2}}};
    MultiscaleTransform({3, 2, 2}, levels, MultiscalePrior::standard_normal, MultiscalePrior::standard_normal, gen);
  });
  BOOST_TEST(split.find("[3, 2, 2]") != std::string::npos, split);
}

BOOST_AUTO_TEST_CASE(multiscale_inverts_with_the_true_logdet_under_either_prior) {
  for (MultiscalePrior split : {MultiscalePrior::standard_normal, MultiscalePrior::learned})
    for (MultiscalePrior top : {MultiscalePrior::standard_normal, MultiscalePrior::learned}) {
      std::string name = std::string("multiscale, split prior ") +
                         (split == MultiscalePrior::learned ? "learned" : "standard") + ", top prior " +
                         (top == MultiscalePrior::learned ? "learned" : "standard");
      check_image_transform(name, [&](Generator& gen) { return tiny_multiscale(split, top, gen); }, {2, 2, 4, 4});
    }
}

BOOST_AUTO_TEST_CASE(multiscale_output_is_the_factored_parts_then_the_top) {
  Generator gen(6, 0);
  auto multiscale = tiny_multiscale(MultiscalePrior::standard_normal, MultiscalePrior::standard_normal, gen);
  BOOST_TEST(multiscale->features() == 32);
  Tensor x = input({2, 2, 4, 4}, 3, DType::f32);
  Tensor y = multiscale->forward(x, Tensor()).y;
  BOOST_TEST((y.shape() == Shape{2, 32}));
  // Untrained couplings are identities: y is the squeezed x's second half, then its first.
  Tensor squeezed = space_to_depth(x, 2);
  auto halves = chunk(squeezed, 2, 1);
  Tensor expected = concat({halves[1].reshape({2, -1}), halves[0].reshape({2, -1})}, 1);
  BOOST_TEST(max_abs_difference(y, expected) == 0.0);
  BOOST_CHECK_THROW(multiscale->inverse(Tensor::zeros({2, 31}), Tensor()), Error);
  std::string wrong = ft::testing::error_message([&] { multiscale->forward(Tensor::zeros({2, 2, 4, 2}), Tensor()); });
  BOOST_TEST(wrong.find("[2, 2, 4, 2]") != std::string::npos, wrong);
}

BOOST_AUTO_TEST_CASE(realnvp_inverts_with_the_true_logdet) {
  RealNvpConfig plain = tiny_realnvp();
  check_image_transform("RealNVP", [&](Generator& gen) { return realnvp_transform(plain, gen); }, {2, 2, 4, 4});
  RealNvpConfig glow_priors = tiny_realnvp();
  glow_priors.coupling = CouplingKind::additive;
  glow_priors.batch_norm = false;
  glow_priors.learn_split_prior = true;
  glow_priors.learn_top = true;
  check_image_transform("RealNVP, additive, learned priors, no batch norm",
                        [&](Generator& gen) { return realnvp_transform(glow_priors, gen); }, {2, 2, 4, 4});
  RealNvpConfig three_scales = tiny_realnvp();
  three_scales.channels = 1;
  three_scales.image_size = 8;
  three_scales.scales = 3;
  three_scales.features = 2;
  Generator gen(7, 0);
  auto t = realnvp_transform(three_scales, gen);
  randomise(*t, {2, 1, 8, 8}, DType::f64);
  Tensor x = input({2, 1, 8, 8}, 4, DType::f64);
  BOOST_TEST(compare(t->inverse(t->forward(x, Tensor()).y, Tensor()).y, x).error < 1e-10);
}

BOOST_AUTO_TEST_CASE(realnvp_runs_on_another_device_with_the_same_numbers) {
  Generator gen(19, 0);
  RealNvpConfig config = tiny_realnvp();
  config.learn_split_prior = true;
  config.learn_top = true;
  auto transform = realnvp_transform(config, gen);
  randomise(*transform, {4, 2, 4, 4}, DType::f32);
  Tensor x = input({2, 2, 4, 4}, 14, DType::f32);
  TransformResult on_cpu = transform->forward(x, Tensor());
  transform->to(Device::cpu(1));  // masks, buffers and priors too, or an op mixes devices and throws
  TransformResult moved = transform->forward(x.to(Device::cpu(1)), Tensor());
  BOOST_TEST(moved.y.device().str() == "cpu:1");
  BOOST_TEST(max_abs_difference(moved.y.to(Device::cpu()), on_cpu.y) == 0.0);
  BOOST_TEST(max_abs_difference(moved.logabsdet.to(Device::cpu()), on_cpu.logabsdet) == 0.0);
  Tensor back = transform->inverse(moved.y, Tensor()).y;
  BOOST_TEST(compare(back.to(Device::cpu()), x).error < 1e-5);
}

BOOST_AUTO_TEST_CASE(realnvp_flow_log_prob_is_base_plus_brute_force_logdet) {
  Generator gen(8, 0);
  RealNvpConfig config = tiny_realnvp();
  config.learn_split_prior = true;
  config.learn_top = true;
  auto transform = realnvp_transform(config, gen);
  randomise(*transform, {4, 2, 4, 4}, DType::f64);
  auto base = std::make_shared<StandardNormal>(transform->features());
  Flow flow(transform, base);
  Tensor x = input({1, 2, 4, 4}, 5, DType::f64);
  Tensor z = flow.transform_to_noise(x);
  double brute = logabsdet(jacobian([&](const Tensor& v) { return flow.transform_to_noise(v); }, x)).item();
  BOOST_TEST(std::abs(flow.log_prob(x).item() - (base->log_prob(z, Tensor()).item() + brute)) < 1e-9);
  // Sampling runs the inverse, and its density is log_prob's (StandardNormal samples
  // in f32, hence the f32 tolerance).
  Generator sampler(9, 1);
  SampleAndLogProb s = flow.sample_and_log_prob(3, Tensor(), sampler);
  BOOST_TEST((s.x.shape() == Shape{3, 2, 4, 4}));
  BOOST_TEST(compare(s.log_prob, flow.log_prob(s.x)).error < 1e-5);
}

BOOST_AUTO_TEST_CASE(realnvp_gradients_are_finite_in_training) {
  Generator gen(10, 0);
  RealNvpConfig config = tiny_realnvp();
  config.learn_split_prior = true;
  config.learn_top = true;
  Flow flow(realnvp_transform(config, gen), std::make_shared<StandardNormal>(32));
  perturb_parameters(flow, 11, 0.1);
  Tensor loss = neg(mean(flow.log_prob(input({4, 2, 4, 4}, 6, DType::f32))));
  BOOST_TEST(std::isfinite(loss.item()));
  loss.backward();
  double largest = 0.0;
  for (auto& [name, p] : flow.named_parameters()) {
    if (!p.grad().defined()) {  // Glow's learned top prior reads only its conv's bias and logs
      BOOST_TEST(name.find("top_prior.conv.weight") != std::string::npos, name << " has no gradient");
      continue;
    }
    double g = max_abs(p.grad());
    BOOST_TEST(std::isfinite(g), name);
    largest = std::max(largest, g);
  }
  BOOST_TEST(largest > 0.0);
}

BOOST_AUTO_TEST_CASE(realnvp_cifar10_preset_has_the_reference_parameter_count) {
  // chrischute/real-nvp's RealNVP(num_scales=2, in_channels=3, mid_channels=64,
  // num_blocks=8) has 19,631,640 parameters; ours keeps one scale per channel where its
  // weight-normalised Rescale keeps two (-51) and adds the paper's batch norm after
  // each of the 10 couplings (+138: 2 per channel on 3, 12 and 6 channels).
  RealNvpConfig config = realnvp_cifar10_config();
  BOOST_TEST(config.res_blocks == 8);
  BOOST_TEST(config.features == 64);
  Generator gen(12, 0);
  auto transform = realnvp_transform(config, gen);
  BOOST_TEST_MESSAGE("RealNVP CIFAR-10 preset: " << transform->parameter_count() << " parameters");
  BOOST_TEST(transform->parameter_count() == 19631640 - 51 + 138);
  BOOST_TEST(transform->features() == 3 * 32 * 32);
}

BOOST_AUTO_TEST_CASE(realnvp_config_errors_name_the_key) {
  auto error_of = [](const std::function<void(RealNvpConfig&)>& edit) {
    RealNvpConfig config = realnvp_cifar10_config();
    edit(config);
    return ft::testing::error_message([&] { config.validate(); });
  };
  BOOST_TEST(error_of([](RealNvpConfig& c) { c.scales = 0; }).find("model.scales") != std::string::npos);
  BOOST_TEST(error_of([](RealNvpConfig& c) { c.res_blocks = 0; }).find("model.res_blocks") != std::string::npos);
  BOOST_TEST(error_of([](RealNvpConfig& c) { c.features = 0; }).find("model.features") != std::string::npos);
  BOOST_TEST(error_of([](RealNvpConfig& c) { c.channels = 0; }).find("model.channels") != std::string::npos);
  BOOST_TEST(error_of([](RealNvpConfig& c) { c.image_size = 30; c.scales = 3; }).find("model.image_size") !=
             std::string::npos);
  BOOST_TEST(error_of([](RealNvpConfig& c) { c.coupling = CouplingKind::rational_quadratic; }).find("model.coupling") !=
             std::string::npos);
  BOOST_TEST(error_of([](RealNvpConfig&) {}) == "no error");
}

BOOST_AUTO_TEST_CASE(weight_norm_conv_is_magnitude_times_unit_direction) {
  Generator gen(13, 0);
  nn::WeightNormConv2d conv(3, 4, 3, true, gen);
  // PyTorch's weight_norm start: the weight is the direction itself.
  BOOST_TEST(max_abs_difference(conv.weight(), conv.direction) < 1e-6);
  perturb_parameters(conv, 14, 0.3);
  Tensor norms = sqrt(sum(square(conv.weight()), {1, 2, 3}));
  BOOST_TEST(max_abs_difference(norms, abs(conv.magnitude)) < 1e-5);
  nn::WeightNormConv2d zero(3, 4, 1, true, gen, nn::Init::zeros);
  BOOST_TEST(max_abs(zero.forward(input({2, 3, 4, 4}, 7, DType::f32))) == 0.0);
}

// Glow is this library's multiscale container of its steps (layers/glow/glow.h). Its
// log-likelihood must still be openai/glow's formula: the step log-determinants plus
// the Gaussian log-densities of every split and of the top, computed here by hand
// over Glow's own modules; its latents are the standardised noise of each part, and
// reconstruct inverts them. Unconditional and class-conditional (one-hot top prior).
BOOST_AUTO_TEST_CASE(glow_as_a_multiscale_flow_keeps_the_glow_likelihood) {
  for (int64_t classes : {0, 3}) {
    BOOST_TEST_CONTEXT("classes " << classes) {
      layers::GlowConfig config;
      config.channels = 2;
      config.image_size = 8;
      config.levels = 2;
      config.depth = 2;
      config.width = 4;
      config.num_classes = classes;
      Generator glow_gen(15, 0);
      layers::Glow glow(config, glow_gen);
      glow.to_dtype(DType::f64);
      Tensor labels = classes ? Tensor::from_vector<int64_t>({0, 2, 1}, {3}) : Tensor();
      glow.forward(input({3, 2, 8, 8}, 12, DType::f64), labels);  // ActNorm's data-dependent start
      perturb_parameters(glow, 16, 0.05);

      Tensor x = input({3, 2, 8, 8}, 13, DType::f64);
      layers::ModelOutput out = glow.forward(x, labels);
      auto steps = glow.find_modules<layers::FlowStep>();
      auto splits = glow.find_modules<layers::SplitPrior>();
      auto tops = glow.find_modules<layers::TopPrior>();
      BOOST_TEST_REQUIRE(steps.size() == 4u);
      BOOST_TEST_REQUIRE(splits.size() == 1u);
      BOOST_TEST_REQUIRE(tops.size() == 1u);
      layers::Squeeze squeeze;
      Tensor z = squeeze.forward(x).y, log_prob = Tensor::zeros({3}, DType::f64);
      std::vector<Tensor> latents;
      for (int64_t level = 0; level < 2; ++level) {
        for (int64_t k = 0; k < 2; ++k) {
          layers::FlowResult r = steps[size_t(level * 2 + k)]->forward(z);
          z = r.y;
          log_prob = add(log_prob, r.logdet);
        }
        if (level == 1) break;
        auto halves = chunk(z, 2, 1);
        layers::GaussianParams prior = splits[0]->forward(halves[0]);
        log_prob = add(log_prob, layers::gaussian_log_prob(halves[1], prior.mean, prior.logs));
        latents.push_back(mul(sub(halves[1], prior.mean), exp(neg(prior.logs))));
        z = squeeze.forward(halves[0]).y;
      }
      Tensor context = classes ? layers::one_hot(labels, classes, DType::f64) : Tensor();
      layers::GaussianParams top = tops[0]->forward(3, z.size(2), z.size(3), context, DType::f64, Device::cpu());
      log_prob = add(log_prob, layers::gaussian_log_prob(z, top.mean, top.logs));
      latents.push_back(mul(sub(z, top.mean), exp(neg(top.logs))));

      double log_prob_error = max_abs_difference(out.log_prob, log_prob);
      BOOST_TEST_MESSAGE("Glow as a multiscale flow (f64): log p differs from the Glow formula by "
                         << log_prob_error << " (of " << max_abs(log_prob) << ")");
      BOOST_TEST(log_prob_error < 1e-10);
      BOOST_TEST_REQUIRE(out.latents.size() == 2u);
      for (size_t i = 0; i < 2; ++i) BOOST_TEST(max_abs_difference(out.latents[i], latents[i]) < 1e-12);
      BOOST_TEST(max_abs_difference(glow.reconstruct(out.latents, labels), x) < 1e-10);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
