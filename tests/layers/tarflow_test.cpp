// TARFLOW: config validation, patchify layout, exact inversion, log-determinants
// against brute-force Jacobians, the autoregressive structure, KV-cache sampling,
// guidance, label dropout, denoising and the summary.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <numbers>

#include "framework/autograd/grad_mode.h"
#include "layers/flows/flow.h"
#include "layers/tarflow/patchify.h"
#include "layers/tarflow/tarflow_transforms.h"
#include "tests/support/error_message.h"
#include "tests/layers/tarflow_test_util.h"

using namespace ft;
using namespace ft::layers;
using namespace ft::tarflow_test;

namespace {

std::shared_ptr<TarflowBlock> make_block(bool reverse_order, int64_t classes, DType dtype, uint64_t seed) {
  Generator gen(seed);
  auto block = std::make_shared<TarflowBlock>(tiny_block_config(reverse_order, classes), gen);
  perturb(*block, gen);
  cast_parameters(*block, dtype);
  return block;
}

std::unique_ptr<Tarflow> make_model(const TarflowConfig& config, DType dtype, uint64_t seed,
                                    double out_std = 0.2) {
  Generator gen(seed);
  auto model = std::make_unique<Tarflow>(config, gen);
  perturb(*model, gen, out_std);
  cast_parameters(*model, dtype);
  model->set_training(false);
  return model;
}

Tensor labels_of(std::vector<int64_t> values) { return Tensor::from_vector(values, {int64_t(values.size())}); }

void check_rejects(void (*edit)(TarflowConfig&), const std::string& field) {
  TarflowConfig c = tiny_config();
  edit(c);
  try {
    c.validate();
    BOOST_ERROR("config with a bad " << field << " was accepted");
  } catch (const Error& e) {
    BOOST_TEST(std::string(e.what()).find(field) != std::string::npos, e.what());
  }
}

// Log-determinant of example e from the full batch Jacobian (block diagonal over examples).
double example_logabsdet(const Tensor& jac, int64_t e, int64_t dims) {
  Tensor block = jac.slice(0, e * dims, (e + 1) * dims).slice(1, e * dims, (e + 1) * dims).contiguous();
  return logabsdet(block).item();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tarflow)

BOOST_AUTO_TEST_CASE(config_validation_names_the_field) {
  BOOST_CHECK_NO_THROW(tiny_config().validate());
  check_rejects([](TarflowConfig& c) { c.channels = 0; }, "channels");
  check_rejects([](TarflowConfig& c) { c.image_size = -4; }, "image_size");
  check_rejects([](TarflowConfig& c) { c.patch_size = 3; }, "patch_size");
  check_rejects([](TarflowConfig& c) { c.patch_size = 4; }, "patch_size");  // one token
  check_rejects([](TarflowConfig& c) { c.width = 20; }, "width");
  check_rejects([](TarflowConfig& c) { c.blocks = 0; }, "blocks");
  check_rejects([](TarflowConfig& c) { c.layers_per_block = 0; }, "layers_per_block");
  check_rejects([](TarflowConfig& c) { c.head_dim = 0; }, "head_dim");
  check_rejects([](TarflowConfig& c) { c.num_classes = -1; }, "num_classes");
  check_rejects([](TarflowConfig& c) { c.label_dropout = 1.0; }, "label_dropout");
  check_rejects([](TarflowConfig& c) { c.noise_std = 0.0; }, "noise_std");
  check_rejects([](TarflowConfig& c) { c.dequantization = "uniform"; }, "noise_std");
  check_rejects([](TarflowConfig& c) { c.dequantization = "logistic"; }, "dequantization");
  TarflowConfig bad = tiny_config();
  bad.width = 20;
  Generator gen(1);
  BOOST_CHECK_THROW(Tarflow(bad, gen), Error);
}

BOOST_AUTO_TEST_CASE(patchify_is_channel_major_within_patches) {
  Tensor x = Tensor::arange(2 * 4 * 4, DType::f64).reshape({1, 2, 4, 4});
  Tensor t = patchify(x, 2);
  BOOST_TEST((t.shape() == Shape{1, 4, 8}));
  // Token 1 is the patch at rows 0-1, columns 2-3: channel 0's four pixels, then channel 1's.
  std::vector<double> expected = {2, 3, 6, 7, 18, 19, 22, 23};
  BOOST_TEST(t.select(0, 0).select(0, 1).to_double_vector() == expected, boost::test_tools::per_element());
  BOOST_TEST(max_abs_difference(unpatchify(t, 2, 4, 2), x) == 0.0);
}

BOOST_AUTO_TEST_CASE(block_init_matches_ml_tarflow) {
  Generator gen(3);
  TarflowBlock block(tiny_block_config(false, 5), gen);
  BOOST_TEST(max_abs(block.proj_out->weight) == 0.0);
  BOOST_TEST(max_abs(block.proj_out->bias) > 0.0);
  BOOST_TEST((block.pos_embed.shape() == Shape{4, 16}));
  BOOST_TEST((block.class_embed.shape() == Shape{5, 16}));
  double sq = 0.0;
  for (double v : block.pos_embed.to_double_vector()) sq += v * v;
  BOOST_TEST(std::sqrt(sq / 64.0) == 0.01, boost::test_tools::tolerance(0.3));
  auto state = block.state_dict();
  for (const char* name : {"proj_in.weight", "pos_embed", "class_embed", "attn_blocks.1.attention_norm.weight",
                           "attn_blocks.1.attention.qkv.bias", "attn_blocks.1.attention.out.weight",
                           "attn_blocks.1.mlp_norm.bias", "attn_blocks.1.mlp.fc1.weight", "proj_out.bias"})
    BOOST_TEST(state.count(name) == 1u, name);
  BOOST_TEST((state.at("attn_blocks.0.mlp.fc1.weight").shape() == Shape{64, 16}));
}

BOOST_AUTO_TEST_CASE(block_inverts_forward) {
  for (DType dtype : {DType::f32, DType::f64}) {
    double tol = dtype == DType::f32 ? 1e-5 : 1e-10;
    for (bool reverse_order : {false, true}) {
      auto block = make_block(reverse_order, 3, dtype, 11);
      Generator gen(12);
      Tensor x = normal({3, 4, 8}, 0.0, 1.0, gen, dtype);
      Tensor labels = labels_of({2, -1, 0});
      FlowResult r = block->forward(x, labels);
      BOOST_TEST(max_abs_difference(block->inverse(r.y, labels), x) < tol);
      BOOST_TEST(max_abs_difference(r.y, x) > 1e-2);  // not the identity
    }
  }
}

// TARFLOW on the flows API: a block as a Transform takes the labels as the one-hot
// context (a zero row: no label), inverts with the negated log-determinant, and gives
// the block's own numbers; labels and contexts convert both ways, bad rows are named.
BOOST_AUTO_TEST_CASE(block_as_a_transform_reads_labels_from_the_context) {
  auto block = make_block(true, 3, DType::f64, 13);
  TarflowBlockTransform transform(block);
  BOOST_TEST(transform.named_parameters().front().first == block->named_parameters().front().first);
  Generator gen(14);
  Tensor x = normal({3, 4, 8}, 0.0, 1.0, gen, DType::f64);
  Tensor labels = labels_of({2, -1, 0});
  Tensor context = label_context(labels, 3, DType::f64);
  BOOST_TEST(context.to_double_vector() == (std::vector<double>{0, 0, 1, 0, 0, 0, 1, 0, 0}),
             boost::test_tools::per_element());
  BOOST_TEST(labels_of_context(context).to_vector<int64_t>() == labels.to_vector<int64_t>(),
             boost::test_tools::per_element());
  flows::TransformResult r = transform.forward(x, context);
  FlowResult direct = block->forward(x, labels);
  BOOST_TEST(max_abs_difference(r.y, direct.y) == 0.0);
  BOOST_TEST(max_abs_difference(r.logabsdet, direct.logdet) == 0.0);
  flows::TransformResult back = transform.inverse(r.y, context);
  BOOST_TEST(max_abs_difference(back.y, x) < 1e-10);
  BOOST_TEST(max_abs_difference(back.logabsdet, neg(r.logabsdet)) < 1e-10);
  Tensor two_ones = Tensor::from_vector<double>({1, 1, 0, 0, 0, 0, 0, 0, 0}, {3, 3});
  BOOST_TEST(ft::testing::error_message([&] { transform.forward(x, two_ones); }).find("row 0 has 2 ones") !=
             std::string::npos);
  BOOST_TEST(ft::testing::error_message([&] { transform.forward(x, Tensor::zeros({3, 2}, DType::f64)); })
                 .find("3") != std::string::npos);
  BOOST_TEST(ft::testing::error_message([&] { label_context(labels_of({3}), 3, DType::f64); }).find("label 3") !=
             std::string::npos);
}

// The model is Flow(its composite transform, StandardNormal): the library's Flow over
// Tarflow's own transform gives its log-likelihood, and patchify inverts exactly.
BOOST_AUTO_TEST_CASE(model_is_a_flow_of_its_transforms) {
  auto model = make_model(tiny_config(3), DType::f64, 23);
  Generator gen(24);
  Tensor x = normal({2, 2, 4, 4}, 0.0, 0.5, gen, DType::f64);
  Tensor labels = labels_of({1, 2});
  auto composite = model->find_modules<flows::CompositeTransform>();
  BOOST_TEST_REQUIRE(composite.size() == 1u);
  flows::TransformResult r = composite[0]->forward(x, label_context(labels, 3, DType::f64));
  Tensor by_flow = add(flows::StandardNormal(32).log_prob(r.y.reshape({2, 32}), Tensor()), r.logabsdet);
  BOOST_TEST(max_abs_difference(model->forward(x, labels).log_prob, by_flow) == 0.0);
  PatchifyTransform patchify(2, 4, 2);
  BOOST_TEST(max_abs_difference(patchify.inverse(patchify.forward(x, Tensor()).y, Tensor()).y, x) == 0.0);
  BOOST_TEST(ft::testing::error_message([&] { patchify.forward(normal({2, 2, 6, 6}, 0.0, 1.0, gen, DType::f64), Tensor()); })
                 .find("tarflow input") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(model_inverts_forward) {
  for (DType dtype : {DType::f32, DType::f64}) {
    double tol = dtype == DType::f32 ? 1e-5 : 1e-10;
    for (int64_t classes : {0, 3}) {
      auto model = make_model(tiny_config(classes), dtype, 21);
      Generator gen(22);
      Tensor x = normal({2, 2, 4, 4}, 0.0, 0.5, gen, dtype);
      Tensor labels = classes ? labels_of({1, -1}) : Tensor();
      ModelOutput out = model->forward(x, labels);
      BOOST_TEST((out.latents.at(0).shape() == Shape{2, 4, 8}));
      BOOST_TEST(max_abs_difference(model->reconstruct(out.latents, labels), x) < tol);
    }
  }
}

BOOST_AUTO_TEST_CASE(block_logdet_is_log_abs_det_jacobian) {
  for (bool reverse_order : {false, true}) {
    auto block = make_block(reverse_order, 3, DType::f64, 31);
    Generator gen(32);
    Tensor x = normal({2, 4, 8}, 0.0, 1.0, gen, DType::f64);
    Tensor labels = labels_of({1, -1});
    Tensor logdet = block->forward(x, labels).logdet;
    Tensor jac = jacobian([&](const Tensor& xi) { return block->forward(xi, labels).y; }, x);
    for (int64_t e = 0; e < 2; ++e)
      BOOST_TEST(logdet.to_double_vector()[e] == example_logabsdet(jac, e, 32), boost::test_tools::tolerance(1e-10));
  }
}

BOOST_AUTO_TEST_CASE(model_logdet_is_log_abs_det_jacobian) {
  auto model = make_model(tiny_config(3), DType::f64, 41);
  Generator gen(42);
  Tensor x = normal({2, 2, 4, 4}, 0.0, 0.5, gen, DType::f64);
  Tensor labels = labels_of({0, 2});
  TarflowTransform t = model->transform(x, labels);
  Tensor jac = jacobian([&](const Tensor& xi) { return model->transform(xi, labels).z; }, x);
  // log p(x) = log N(z) + logdet, and logdet is the Jacobian's.
  Tensor log_prob = model->forward(x, labels).log_prob;
  for (int64_t e = 0; e < 2; ++e) {
    double brute = example_logabsdet(jac, e, 32);
    BOOST_TEST(t.logdet.to_double_vector()[e] == brute, boost::test_tools::tolerance(1e-10));
    std::vector<double> z = t.z.select(0, e).to_double_vector();
    double log_normal = 0.0;
    for (double v : z) log_normal += -0.5 * v * v - 0.5 * std::log(2.0 * std::numbers::pi);
    BOOST_TEST(log_prob.to_double_vector()[e] == log_normal + brute, boost::test_tools::tolerance(1e-10));
  }
}

BOOST_AUTO_TEST_CASE(block_jacobian_is_triangular_in_block_order) {
  auto block = make_block(/*reverse_order=*/true, 0, DType::f64, 51);
  Generator gen(52);
  Tensor x = normal({1, 4, 8}, 0.0, 1.0, gen, DType::f64);
  Tensor jac = jacobian([&](const Tensor& xi) { return block->forward(xi).y; }, x);
  auto natural = [](int64_t block_order) { return 3 - block_order; };  // the reversed permutation
  double below = 0.0;
  for (int64_t a = 0; a < 4; ++a) {
    for (int64_t b = 0; b < 4; ++b) {
      Tensor tile = jac.slice(0, natural(a) * 8, natural(a) * 8 + 8).slice(1, natural(b) * 8, natural(b) * 8 + 8);
      if (b > a) BOOST_TEST(max_abs(tile) == 0.0, "token " << a << " depends on later token " << b);
      if (b < a) below = std::max(below, max_abs(tile));
      if (a != b) continue;
      // Diagonal blocks are diagonal: exp(-alpha) on the diagonal, 0 elsewhere.
      for (int64_t i = 0; i < 8; ++i)
        for (int64_t j = 0; j < 8; ++j) {
          double v = tile.select(0, i).select(0, j).item();
          if (i == j) BOOST_TEST(v > 0.0);
          else BOOST_TEST(v == 0.0);
        }
    }
  }
  BOOST_TEST(below > 1e-3);  // earlier tokens do drive later ones
  // Token 0 in block order (the last natural token) passes through unchanged.
  Tensor first = jac.slice(0, 24, 32).slice(1, 24, 32);
  Tensor identity = Tensor::zeros({8, 8}, DType::f64);
  for (int64_t i = 0; i < 8; ++i) identity.select(0, i).select(0, i).fill_(1.0);
  BOOST_TEST(max_abs_difference(first, identity) == 0.0);
}

BOOST_AUTO_TEST_CASE(kv_cache_inverse_equals_uncached_inverse) {
  for (double guidance : {0.0, 1.5}) {
    auto block = make_block(true, 3, DType::f64, 61);
    Generator gen(62);
    Tensor z = normal({3, 4, 8}, 0.0, 1.0, gen, DType::f64);
    Tensor labels = labels_of({0, 1, 2});
    InverseOptions cached, uncached;
    cached.guidance = uncached.guidance = guidance;
    cached.attention_temperature = uncached.attention_temperature = 0.8;
    uncached.kv_cache = false;
    BOOST_TEST(max_abs_difference(block->inverse(z, labels, cached), block->inverse(z, labels, uncached)) < 1e-12);
  }
  // The model's sampler (cached) against an uncached reverse of the same prior draw.
  auto model = make_model(tiny_config(3), DType::f32, 63, 0.05);
  SampleOptions options;
  options.labels = labels_of({2, 0});
  options.guidance = 1.0;
  options.temperature = 0.9;
  options.denoise = false;
  Generator g1(64), g2(64);
  Tensor sampled = model->sample(2, options, g1);
  Tensor z = normal({2, 4, 8}, 0.0, 0.9, g2);
  InverseOptions uncached;
  uncached.guidance = 1.0;
  uncached.kv_cache = false;
  BOOST_TEST(max_abs_difference(sampled, model->reverse(z, options.labels, uncached)) < 1e-5);
}

BOOST_AUTO_TEST_CASE(guidance_extrapolates_alpha_and_mu_with_annealing) {
  // Token 1 of the inverse depends only on z_0 (which passes through) and z_1, so
  // its conditional and unconditional alpha, mu can be read off the forward pass.
  auto block = make_block(false, 3, DType::f64, 71);
  Generator gen(72);
  Tensor z = normal({1, 4, 8}, 0.0, 1.0, gen, DType::f64);
  Tensor label = labels_of({1});
  auto affine_of_token1 = [&](const Tensor& labels) {
    Tensor x0 = z.clone(), x1 = z.clone();
    x0.select(1, 1).fill_(0.0);
    x1.select(1, 1).fill_(1.0);
    Tensor z0 = block->forward(x0, labels).y.select(1, 1), z1 = block->forward(x1, labels).y.select(1, 1);
    Tensor scale = sub(z1, z0);       // exp(-alpha)
    Tensor alpha = neg(log(scale));
    Tensor mu = neg(div(z0, scale));  // z0 = -mu exp(-alpha)
    return std::pair{alpha, mu};
  };
  auto [alpha_c, mu_c] = affine_of_token1(label);
  auto [alpha_u, mu_u] = affine_of_token1(labels_of({-1}));
  double w = 2.0, g = 1.0 / 3.0 * w;  // g_0 = (0 + 1) / (T - 1) * w with T = 4
  Tensor alpha = add(alpha_c, mul(sub(alpha_c, alpha_u), g)), mu = add(mu_c, mul(sub(mu_c, mu_u), g));
  Tensor expected = add(mul(z.select(1, 1), exp(alpha)), mu);
  InverseOptions options;
  options.guidance = w;
  Tensor x = block->inverse(z, label, options);
  BOOST_TEST(max_abs_difference(x.select(1, 1), expected) < 1e-10);
  BOOST_TEST(max_abs_difference(x.select(1, 0), z.select(1, 0)) == 0.0);
}

BOOST_AUTO_TEST_CASE(zero_guidance_equals_unguided_sampling) {
  auto model = make_model(tiny_config(3), DType::f32, 81, 0.05);
  SampleOptions plain;
  plain.labels = labels_of({0, 2});
  plain.denoise = false;
  SampleOptions zero = plain, guided = plain;
  zero.attention_temperature = 0.5;  // unused without guidance
  guided.guidance = 1.0;
  Generator g1(82), g2(82), g3(82);
  Tensor a = model->sample(2, plain, g1), b = model->sample(2, zero, g2), c = model->sample(2, guided, g3);
  BOOST_TEST(max_abs_difference(a, b) == 0.0);
  BOOST_TEST(max_abs_difference(a, c) > 1e-4);
  // An unconditional model's two passes differ only by the attention temperature.
  auto uncond = make_model(tiny_config(0), DType::f64, 83, 0.05);
  SampleOptions u_plain, u_same, u_temp;
  u_plain.denoise = u_same.denoise = u_temp.denoise = false;
  u_same.guidance = u_temp.guidance = 2.0;
  u_temp.attention_temperature = 0.5;
  Generator h1(84), h2(84), h3(84);
  Tensor pa = uncond->sample(2, u_plain, h1), pb = uncond->sample(2, u_same, h2), pc = uncond->sample(2, u_temp, h3);
  BOOST_TEST(max_abs_difference(pa, pb) < 1e-12);
  BOOST_TEST(max_abs_difference(pa, pc) > 1e-6);
}

BOOST_AUTO_TEST_CASE(no_label_is_the_mean_class_embedding) {
  auto block = make_block(false, 3, DType::f64, 91);
  // Row 0 := mean of rows 1 and 2, so the mean of all three rows is row 0.
  Tensor rows = block->class_embed.detach();
  rows.select(0, 0).copy_(mul(add(rows.select(0, 1), rows.select(0, 2)), 0.5));
  Generator gen(92);
  Tensor x = normal({1, 4, 8}, 0.0, 1.0, gen, DType::f64);
  Tensor dropped = block->forward(x, labels_of({-1})).y;
  BOOST_TEST(max_abs_difference(dropped, block->forward(x, labels_of({0})).y) < 1e-14);
  BOOST_TEST(max_abs_difference(dropped, block->forward(x, Tensor()).y) < 1e-14);
  BOOST_TEST(max_abs_difference(dropped, block->forward(x, labels_of({1})).y) > 1e-6);
  BOOST_CHECK_THROW(block->forward(x, labels_of({3})), Error);
}

BOOST_AUTO_TEST_CASE(label_dropout_is_deterministic_and_training_only) {
  TarflowConfig config = tiny_config(3);
  config.label_dropout = 0.5;
  auto model = make_model(config, DType::f64, 101);
  Generator gen(102);
  Tensor x = normal({8, 2, 4, 4}, 0.0, 0.5, gen, DType::f64);
  Tensor labels = labels_of({0, 1, 2, 0, 1, 2, 0, 1});
  Generator stream(7, 3);
  model->set_forward_generator(stream);
  // The same draws, replayed: label -> -1 where u < 0.5.
  std::vector<int64_t> expected = labels.to_vector<int64_t>();
  int64_t dropped = 0;
  for (int64_t& v : expected) {
    if (stream.next_unit() < 0.5) {
      v = -1;
      ++dropped;
    }
  }
  BOOST_TEST_REQUIRE((dropped > 0 && dropped < 8));
  Tensor eval_dropped = model->transform(x, labels_of(expected)).z;
  Tensor eval_kept = model->transform(x, labels).z;
  model->set_training(true);
  Tensor train = model->transform(x, labels).z;
  BOOST_TEST(max_abs_difference(train, eval_dropped) == 0.0);
  BOOST_TEST(max_abs_difference(train, eval_kept) > 0.0);
  BOOST_TEST(model->label_dropout_generator().offset() == stream.offset());
}

BOOST_AUTO_TEST_CASE(loss_is_per_dimension_negative_log_likelihood) {
  auto model = make_model(tiny_config(0), DType::f64, 111);
  Generator gen(112);
  Tensor x = normal({3, 2, 4, 4}, 0.0, 0.5, gen, DType::f64);
  TarflowTransform t = model->transform(x, Tensor());
  double loss = Tarflow::loss(t.z, t.logdet).item();
  double nll = -mean(model->forward(x, Tensor()).log_prob).item() / 32.0;
  BOOST_TEST(loss == nll - 0.5 * std::log(2.0 * std::numbers::pi), boost::test_tools::tolerance(1e-12));
  Tensor l = Tarflow::loss(t.z, t.logdet);
  l.backward();
  for (auto& [name, p] : model->named_parameters()) BOOST_TEST(p.grad().defined(), name);
}

BOOST_AUTO_TEST_CASE(denoising_is_one_score_step) {
  auto model = make_model(tiny_config(3), DType::f64, 121);
  Generator gen(122);
  Tensor x = normal({2, 2, 4, 4}, 0.0, 0.5, gen, DType::f64);
  Tensor labels = labels_of({1, 2});
  model->blocks[0]->pos_embed.set_requires_grad(false);  // a user-frozen parameter stays frozen
  Tensor step = sub(model->denoise(x, labels), x);
  for (auto& [name, p] : model->named_parameters()) {
    BOOST_TEST(!p.grad().defined(), name);
    BOOST_TEST(p.requires_grad() == (name != "blocks.0.pos_embed"), name);
  }
  // Central differences of log p(x) at a few coordinates.
  NoGradGuard no_grad;
  for (int64_t flat : {0, 13, 31, 50}) {
    double h = 1e-5;
    Tensor xp = x.clone(), xm = x.clone();
    Tensor sp = xp.reshape({64}).select(0, flat), sm = xm.reshape({64}).select(0, flat);
    sp.fill_(sp.item() + h);
    sm.fill_(sm.item() - h);
    double fd = (sum(model->forward(xp, labels).log_prob).item() - sum(model->forward(xm, labels).log_prob).item()) /
                (2 * h);
    BOOST_TEST(step.reshape({64}).select(0, flat).item() == 0.05 * 0.05 * fd, boost::test_tools::tolerance(1e-6));
  }
}

BOOST_AUTO_TEST_CASE(sample_shapes_and_determinism) {
  auto model = make_model(tiny_config(3), DType::f32, 131, 0.03);
  SampleOptions options;
  options.labels = labels_of({0, 1, 2});
  Generator g1(5), g2(5);
  Tensor a = model->sample(3, options, g1), b = model->sample(3, options, g2);
  BOOST_TEST((a.shape() == Shape{3, 2, 4, 4}));
  BOOST_TEST(max_abs_difference(a, b) == 0.0);
  for (double v : a.to_double_vector()) BOOST_TEST(std::isfinite(v));
  options.labels = labels_of({0, 1});
  BOOST_CHECK_THROW(model->sample(3, options, g1), Error);
}

// A block over 9 tokens, so Jacobi windows of 2, 3 and 8 tokens split it differently.
std::shared_ptr<TarflowBlock> make_long_block(bool reverse_order, DType dtype, uint64_t seed,
                                              double out_std = 0.1) {
  Generator gen(seed);
  TarflowBlockConfig config = tiny_block_config(reverse_order, 3);
  config.tokens = 9;
  auto block = std::make_shared<TarflowBlock>(config, gen);
  perturb(*block, gen, out_std);
  cast_parameters(*block, dtype);
  return block;
}

BOOST_AUTO_TEST_CASE(jacobi_inverse_to_convergence_equals_sequential) {
  for (bool reverse_order : {false, true}) {
    for (double guidance : {0.0, 1.5}) {
      auto block = make_long_block(reverse_order, DType::f64, 151);
      Generator gen(152);
      Tensor z = normal({3, 9, 8}, 0.0, 1.0, gen, DType::f64);
      Tensor labels = labels_of({0, 1, -1});
      InverseOptions sequential;
      sequential.guidance = guidance;
      InversionStats sequential_stats;
      sequential.inversion.stats = &sequential_stats;
      Tensor expected = block->inverse(z, labels, sequential);
      BOOST_TEST(sequential_stats.iterations == 8);  // one pass per token after the first
      for (int64_t window : {2, 3, 8, 20}) {
        for (bool kv_cache : {true, false}) {
          InverseOptions jacobi = sequential;
          jacobi.kv_cache = kv_cache;
          jacobi.inversion.jacobi_block = window;
          InversionStats stats;
          jacobi.inversion.stats = &stats;
          BOOST_TEST(max_abs_difference(block->inverse(z, labels, jacobi), expected) < 1e-12);
          int64_t windows = (8 + std::min<int64_t>(window, 8) - 1) / std::min<int64_t>(window, 8);
          BOOST_TEST(stats.windows == windows);
          BOOST_TEST(stats.iterations <= 8);  // never more passes than tokens
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(jacobi_inverse_stops_at_the_tolerance) {
  auto block = make_long_block(false, DType::f64, 161, 0.02);
  Generator gen(162);
  Tensor z = normal({4, 9, 8}, 0.0, 1.0, gen, DType::f64);
  Tensor expected = block->inverse(z, Tensor());
  InverseOptions loose;
  loose.inversion.jacobi_block = 8;
  loose.inversion.tolerance = 1e-3;
  InversionStats stats;
  loose.inversion.stats = &stats;
  Tensor x = block->inverse(z, Tensor(), loose);
  // Stopped early (the weak autoregressive dependence contracts quickly), and close to exact.
  BOOST_TEST(stats.iterations < 8);
  BOOST_TEST(max_abs_difference(x, expected) < 1e-2);
  BOOST_TEST(max_abs_difference(x, expected) > 0.0);
}

BOOST_AUTO_TEST_CASE(jacobi_inverse_fails_naming_the_window_when_capped) {
  auto model = make_model(tiny_config(), DType::f32, 171, 0.2);
  SampleOptions options;
  options.denoise = false;
  options.inversion.jacobi_block = 3;
  options.inversion.max_iterations = 1;
  options.inversion.tolerance = 1e-9;
  Generator g(172);
  try {
    model->sample(2, options, g);
    BOOST_FAIL("a capped Jacobi inverse above its tolerance must fail");
  } catch (const Error& e) {
    std::string message = e.what();
    BOOST_TEST(message.find("blocks.1: tarflow inverse: Jacobi window of tokens [1, 4) not converged after 1 "
                            "iterations") != std::string::npos,
               message);
  }
  options.inversion.jacobi_block = -1;
  BOOST_CHECK_THROW(model->sample(2, options, g), Error);
}

BOOST_AUTO_TEST_CASE(jacobi_sampling_equals_sequential_sampling) {
  auto model = make_model(tiny_config(3), DType::f32, 181, 0.05);
  SampleOptions sequential;
  sequential.labels = labels_of({2, 0, 1});
  sequential.guidance = 1.0;
  SampleOptions jacobi = sequential;
  jacobi.inversion.jacobi_block = 3;
  Generator g1(182), g2(182);
  BOOST_TEST(max_abs_difference(model->sample(3, jacobi, g1), model->sample(3, sequential, g2)) < 1e-5);
}

BOOST_AUTO_TEST_CASE(summary_lists_hyperparameters_and_blocks) {
  TarflowConfig config = tiny_config(3);
  Generator gen(141);
  Tarflow model(config, gen);
  nlohmann::json s = model.summary();
  BOOST_TEST(s.at("kind") == "tarflow");
  BOOST_TEST(s.at("tokens") == 4);
  BOOST_TEST(s.at("token_dim") == 8);
  BOOST_TEST(s.at("width") == 16);
  BOOST_TEST(s.at("num_classes") == 3);
  BOOST_TEST(s.at("dequantization") == "gaussian");
  BOOST_TEST(s.at("parameter_count") == model.parameter_count());
  BOOST_TEST_REQUIRE(s.at("layers").size() == 2u);
  BOOST_TEST(s.at("layers")[1].at("permutation") == "reverse");
  int64_t total = 0;
  for (const auto& block : s.at("layers")) total += block.at("parameter_count").get<int64_t>();
  BOOST_TEST(total == model.parameter_count());
  // Per block: proj_in, pos/class embeddings, 2 layers (2 LN, qkv, out, MLP 4x), proj_out.
  int64_t w = 16, d = 8;
  int64_t layer = 2 * 2 * w + (w * 3 * w + 3 * w) + (w * w + w) + (w * 4 * w + 4 * w) + (4 * w * w + w);
  int64_t block = (d * w + w) + 4 * w + 3 * w + 2 * layer + (w * 2 * d + 2 * d);
  BOOST_TEST(s.at("layers")[0].at("parameter_count") == block);
  BOOST_TEST(model.dims() == 32);
  BOOST_TEST(model.scaling().bins_per_unit == 128.0);
}

BOOST_AUTO_TEST_SUITE_END()
