// model.kind = "flow": a transform list in TOML builds the library's flow; bad
// entries are named by model.transforms[i].key.
#include <boost/test/unit_test.hpp>

#include "framework/autograd/grad_mode.h"
#include "framework/core/check.h"
#include "framework/ops/ops.h"
#include "launch/flow_builder.h"
#include "launch/model_factory.h"
#include "tests/support/tensor_compare.h"
#include "tests/support/error_message.h"

using namespace ft;
using ft::launch::Config;

namespace {

bool names(const std::string& message, const std::string& part) {
  BOOST_TEST_INFO("message: " << message);
  return message.find(part) != std::string::npos;
}

const char* kMafConfig = R"(
[model]
kind = "flow"
features = 3
repeat = 2
[[model.transforms]]
type = "maf"
hidden = 8
[[model.transforms]]
type = "reverse"
)";

std::shared_ptr<layers::FlowModel> build(const std::string& text, const std::vector<std::string>& sets = {}) {
  Generator gen(5, 0);
  return launch::build_model(Config::parse(text, "flow.toml", sets), gen);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(flow_builder)

BOOST_AUTO_TEST_CASE(a_transform_list_builds_a_flow_that_inverts) {
  auto model = build(kMafConfig);
  BOOST_TEST(model->summary()["kind"] == "flow");
  BOOST_TEST(model->summary()["transform_count"] == 4);  // the list, twice
  BOOST_TEST((model->data_shape() == Shape{3}));
  BOOST_TEST(!model->scaling().quantized);
  // Two MAFs of 3 features, 8 hidden units, 2 hidden layers: (3*8+8) + (8*8+8) + (8*6+6) each.
  BOOST_TEST(model->parameter_count() == 2 * (32 + 72 + 54));
  Generator gen(1, 2);
  Tensor x = normal({5, 3}, 0.0, 1.0, gen);
  model->set_training(false);
  NoGradGuard no_grad;
  layers::ModelOutput out = model->forward(x, Tensor());
  BOOST_TEST((out.log_prob.shape() == Shape{5}));
  testing::check_close("reconstruct(forward(x))", model->reconstruct(out.latents, Tensor()), x, 1e-5);
  Tensor samples = model->sample(4, {}, gen);
  BOOST_TEST((samples.shape() == Shape{4, 3}));
}

BOOST_AUTO_TEST_CASE(vector_transforms_see_images_flattened) {
  auto model = build(R"(
[model]
kind = "flow"
channels = 1
image_size = 4
distribution = "standard_logistic"
repeat = 2
[[model.preprocess]]
type = "logit"
[[model.transforms]]
type = "additive_coupling"
hidden = 8
[[model.transforms]]
type = "diagonal_scaling"
)");
  BOOST_TEST(model->summary()["transform_count"] == 1 + 2 * 2);  // the preprocessing once, the list twice
  BOOST_TEST((model->data_shape() == Shape{1, 4, 4}));
  BOOST_TEST(model->scaling().quantized);
  BOOST_TEST(model->scaling().shift == 0.0);  // pixels / 256 in [0, 1): the logit's domain
  Generator gen(3, 4);
  Tensor x = uniform({2, 1, 4, 4}, 0.0, 1.0, gen);
  NoGradGuard no_grad;
  layers::ModelOutput out = model->forward(x, Tensor());
  testing::check_close("images back", model->reconstruct(out.latents, Tensor()), x, 1e-5);
}

BOOST_AUTO_TEST_CASE(labels_become_the_context_of_conditional_transforms) {
  auto model = build(kMafConfig, {"model.num_classes=4", "model.distribution=diagonal_normal"});
  Generator gen(1, 2);
  Tensor x = normal({3, 3}, 0.0, 1.0, gen);
  Tensor labels = Tensor::from_vector<int64_t>({0, 3, 1}, {3});
  NoGradGuard no_grad;
  layers::ModelOutput out = model->forward(x, labels);
  testing::check_close("conditional inverse", model->reconstruct(out.latents, labels), x, 1e-5);
  BOOST_TEST(names(ft::testing::error_message([&] { model->forward(x, Tensor()); }), "needs labels [3]"));
  BOOST_TEST(names(ft::testing::error_message([&] { model->forward(x, Tensor::from_vector<int64_t>({0, 4, 1}, {3})); }),
                   "label 4 of example 1"));
  layers::SampleOptions options;
  options.labels = labels;
  options.temperature = 0.7;
  BOOST_TEST(names(ft::testing::error_message([&] { model->sample(3, options, gen); }), "needs a standard base"));
}

BOOST_AUTO_TEST_CASE(bad_transform_entries_are_named) {
  std::string head = "[model]\nkind = \"flow\"\nfeatures = 3\n[[model.transforms]]\n";
  BOOST_TEST(names(ft::testing::error_message([&] { build(head + "type = \"mafff\"\n"); }),
                   "model.transforms[0].type = \"mafff\" is not a transform"));
  BOOST_TEST(names(ft::testing::error_message([&] { build(head + "type = \"maf\"\nhiden = 3\n"); }), "model.transforms[0].hiden"));
  BOOST_TEST(names(ft::testing::error_message([&] { build(head + "type = \"maf\"\nhidden = \"big\"\n"); }),
                   "model.transforms[0].hidden must be an integer"));
  BOOST_TEST(names(ft::testing::error_message([&] { build(head + "type = \"maf\"\nhidden = 0\n"); }), "hidden must be >= 1, got 0"));
  BOOST_TEST(names(ft::testing::error_message([&] { build(head + "hidden = 3\n"); }), "model.transforms[0].type is missing"));
  BOOST_TEST(names(ft::testing::error_message([&] { build(head + "type = \"affine_coupling\"\nmask = \"diagonal\"\n"); }),
                   "model.transforms[0].mask is \"diagonal\""));
  BOOST_TEST(names(ft::testing::error_message([&] { build(head + "type = \"affine_coupling\"\n", {"model.features=1"}); }),
                   "only 1"));
  BOOST_TEST(names(ft::testing::error_message([&] { build("[model]\nkind = \"flow\"\nfeatures = 3\n"); }), "model.transforms is empty"));
  BOOST_TEST(names(ft::testing::error_message([&] { Config::parse("[model]\nkind = \"flow\"\ntransforms = 3\n", "f.toml"); }),
                   "model.transforms' must be an array of tables"));
  BOOST_TEST(names(ft::testing::error_message([&] { Config::parse("[model]\nkind = \"glow\"\nfeatures = 3\n", "f.toml"); }),
                   "belongs to flow models"));
}

BOOST_AUTO_TEST_CASE(image_architectures_take_the_images_whole) {
  std::string head = "[model]\nkind = \"flow\"\nchannels = 2\nimage_size = 4\n[[model.preprocess]]\ntype = \"logit\"\n";
  auto realnvp = build(head + "[[model.transforms]]\ntype = \"realnvp\"\nres_blocks = 1\nfeatures = 4\n"
                              "batch_norm = false\nlearn_split_prior = true\n");
  // Flow++ brings its own logit (the reference's preprocessing).
  auto flowpp = build("[model]\nkind = \"flow\"\nchannels = 2\nimage_size = 4\n[[model.transforms]]\ntype = \"flowpp\"\nfilters = 4\nblocks = 1\nheads = 1\n"
                             "components = 2\nchannel_couplings = [0, 1]\ncheckerboard_couplings = [1, 1]\n");
  Generator gen(3, 4);
  Tensor x = uniform({2, 2, 4, 4}, 0.0, 1.0, gen);
  for (auto& model : {realnvp, flowpp}) {
    BOOST_TEST_CONTEXT(model->summary()["transforms"][0]["type"]) {
    model->forward(x, Tensor());  // data-dependent initialisations (Flow++'s ActNorms)
    model->set_training(false);
    NoGradGuard no_grad;
    layers::ModelOutput out = model->forward(x, Tensor());
    testing::check_close("images back", model->reconstruct(out.latents, Tensor()), x, 1e-4);
    BOOST_TEST((model->sample(3, {}, gen).shape() == Shape{3, 2, 4, 4}));
    }
  }
  std::string entry = "[[model.transforms]]\ntype = \"realnvp\"\n";
  BOOST_TEST(names(ft::testing::error_message([&] { build(head + entry, {"model.repeat=2"}); }), "give it once"));
  BOOST_TEST(names(ft::testing::error_message([&] { build(head + entry, {"model.features=3"}); }), "flow over vectors"));
  BOOST_TEST(names(ft::testing::error_message([&] { build(head + entry + "scales = 0\n"); }), "model.transforms[0]: model.scales"));
  BOOST_TEST(names(ft::testing::error_message([&] { build(head + entry + "[[model.transforms]]\ntype = \"maf\"\n"); }),
                   "cannot follow an image architecture"));
  BOOST_TEST(names(ft::testing::error_message([&] { build(head + "[[model.transforms]]\ntype = \"reverse\"\n" + entry); }),
                   "cannot follow vector transforms"));
  BOOST_TEST(names(ft::testing::error_message([&] { build(head + entry + "batch_norm = 1\n"); }), "batch_norm must be true or false"));
}

BOOST_AUTO_TEST_CASE(continuous_flows_check_their_keys) {
  std::string head = "[model]\nkind = \"flow\"\nfeatures = 2\n[[model.transforms]]\ntype = \"cnf\"\nhidden = 4\n";
  auto model = build(head + "trace = \"exact\"\n");
  // Concat-squash layers 2 -> 4 -> 4 -> 4 -> 2: in*out + out (linear) + 2*out (gate) + out (hyper bias).
  BOOST_TEST(model->parameter_count() == (8 + 16) + 2 * (16 + 16) + (8 + 8));
  Generator gen(1, 2);
  Tensor x = normal({5, 2}, 0.0, 1.0, gen);
  model->set_training(false);
  {
    NoGradGuard no_grad;
    layers::ModelOutput out = model->forward(x, Tensor());
    testing::check_close("reconstruct(forward(x))", model->reconstruct(out.latents, Tensor()), x, 1e-4);
  }
  BOOST_TEST(model->step_statistics()["nfe_forward"].get<int64_t>() > 0);
  auto fails_naming = [&](const std::string& entry, const std::string& part) {
    std::string message = ft::testing::error_message([&] { build(head + entry); });
    BOOST_TEST(message.find('\n') == std::string::npos, message);
    return names(message, part);
  };
  BOOST_TEST(fails_naming("method = \"rk5\"\n", "model.transforms[0].method: unknown ODE method 'rk5'"));
  BOOST_TEST(fails_naming("method = \"rk4\"\n", "model.transforms[0].step_size must be > 0 for method \"rk4\", got 0"));
  BOOST_TEST(fails_naming("trace = \"diagonal\"\n", "model.transforms[0].trace is \"diagonal\"; expected exact or hutchinson"));
  BOOST_TEST(fails_naming("probe = \"uniform\"\n", "model.transforms[0].probe is \"uniform\""));
  BOOST_TEST(fails_naming("activation = \"relu\"\n", "model.transforms[0].activation is \"relu\"; expected tanh or softplus"));
  BOOST_TEST(fails_naming("time_length = 0\n", "model.transforms[0].time_length must be > 0, got 0"));
  BOOST_TEST(fails_naming("atol = -1\n", "model.transforms[0].atol must be > 0"));
  BOOST_TEST(fails_naming("kinetic_energy = -0.1\n", "model.transforms[0].kinetic_energy must be >= 0"));
  BOOST_TEST(fails_naming("max_evaluations = 0\n", "model.transforms[0].max_evaluations must be >= 1"));
  BOOST_TEST(fails_naming("adjoint = 1\n", "model.transforms[0].adjoint must be true or false"));
  BOOST_TEST(fails_naming("steps = 4\n", "model.transforms[0].steps: \"cnf\" has no key 'steps'"));

  std::string image = "[model]\nkind = \"flow\"\nchannels = 1\nimage_size = 4\n[[model.transforms]]\ntype = \"cnf_multiscale\"\n"
                      "hidden = 4\nhidden_layers = 1\nmethod = \"rk4\"\nstep_size = 0.5\n";
  auto multiscale = build(image);
  BOOST_TEST(multiscale->summary()["transforms"][0]["type"] == "cnf_multiscale");
  Tensor images = uniform({2, 1, 4, 4}, 0.0, 1.0, gen);
  multiscale->set_training(false);
  NoGradGuard no_grad;
  layers::ModelOutput out = multiscale->forward(images, Tensor());
  BOOST_TEST((out.latents[0].shape() == Shape{2, 4, 2, 2}));
  BOOST_TEST(names(ft::testing::error_message([&] { build(image + "scales = 4\n"); }),
                   "model.transforms[0]: cnf_multiscale: 4 scales squeeze 3 times, which image_size 4 does not allow"));
}

BOOST_AUTO_TEST_CASE(residual_and_diffeomorphic_flows_check_their_keys) {
  std::string residual = "[model]\nkind = \"flow\"\nfeatures = 2\n[[model.transforms]]\ntype = \"residual\"\nhidden = 4\n";
  // LipSwish-linear pairs 2 -> 4 -> 4 -> 2: in*out + out + one beta each.
  BOOST_TEST(build(residual)->parameter_count() == (8 + 4 + 1) + (16 + 4 + 1) + (8 + 2 + 1));
  auto fails_naming = [&](const std::string& config, const std::string& part) {
    std::string message = ft::testing::error_message([&] { build(config); });
    BOOST_TEST(message.find('\n') == std::string::npos, message);
    return names(message, part);
  };
  BOOST_TEST(fails_naming(residual + "coefficient = 1.0\n",
                          "model.transforms[0].coefficient must be in (0, 1) for an invertible block, got 1"));
  BOOST_TEST(fails_naming(residual + "estimator = \"taylor\"\n",
                          "model.transforms[0].estimator is \"taylor\"; expected exact, power_series or roulette"));
  BOOST_TEST(fails_naming(residual + "distribution = \"uniform\"\n", "model.transforms[0].distribution is \"uniform\""));
  BOOST_TEST(fails_naming(residual + "geometric_p = 1.5\n", "geometric_p must be in (0, 1), got 1.5"));
  BOOST_TEST(fails_naming(residual + "inverse_iterations = 0\n", "model.transforms[0].inverse_iterations must be >= 1"));
  std::string image = "[model]\nkind = \"flow\"\nchannels = 1\nimage_size = 6\n[[model.transforms]]\ntype = \"residual_flow\"\n";
  BOOST_TEST(fails_naming(image + "scales = 3\n", "residual_flow: 3 scales squeeze 2 times, which image_size 6 does not allow"));
  std::string ddnf = "[model]\nkind = \"flow\"\nfeatures = 2\n[[model.transforms]]\ntype = \"ddnf\"\nhidden = 4\n";
  BOOST_TEST(build(ddnf + "coefficient = 1.5\n")->parameter_count() == (8 + 4 + 1) + (16 + 4 + 1) + (8 + 2 + 1));
  BOOST_TEST(fails_naming(ddnf + "coefficient = 2.0\nsteps = 4\n",
                          "model.transforms[0]: the velocity field's Lipschitz bound can reach 8"));
  BOOST_TEST(fails_naming(ddnf + "geodesic_weight = -1.0\n", "regulariser weights must be >= 0"));
}

BOOST_AUTO_TEST_CASE(the_resolved_config_keeps_the_transform_list) {
  Config c = Config::parse(kMafConfig, "flow.toml");
  Config again = Config::parse(c.to_toml(), "resolved");
  BOOST_TEST(again.section_json("model") == c.section_json("model"));
  BOOST_TEST(c.section_json("model")["transforms"][0]["hidden"] == 8);
  BOOST_TEST(launch::describe_transform_types().find("spline_coupling") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
