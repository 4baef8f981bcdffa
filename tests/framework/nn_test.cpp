#include <boost/test/unit_test.hpp>
#include <cmath>

#include "framework/autograd/grad_mode.h"
#include "framework/nn/attention.h"
#include "framework/nn/conv2d.h"
#include "framework/nn/layer_norm.h"
#include "framework/nn/mlp.h"
#include "framework/ops/ops.h"

using namespace ft;

namespace {

struct TinyNet : nn::Module {
  explicit TinyNet(Generator& gen) {
    body = register_module("body", std::make_shared<nn::MLP>(4, 8, 3, gen));
    norm = register_module("norm", std::make_shared<nn::LayerNorm>(3));
    scale = Tensor::ones({3});
    register_buffer("scale", &scale);
  }
  std::shared_ptr<nn::MLP> body;
  std::shared_ptr<nn::LayerNorm> norm;
  Tensor scale;
};

// Holds a TinyNet without a name: its tensors keep TinyNet's names.
struct TransparentWrapper : nn::Module {
  explicit TransparentWrapper(Generator& gen) {
    inner = register_module("", std::make_shared<TinyNet>(gen));
    head = register_module("head", std::make_shared<nn::LayerNorm>(3));
  }
  std::shared_ptr<TinyNet> inner;
  std::shared_ptr<nn::LayerNorm> head;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(nn_modules)

BOOST_AUTO_TEST_CASE(a_child_registered_without_a_name_adds_no_prefix) {
  Generator gen(1, 0);
  TransparentWrapper wrapper(gen);
  std::vector<std::string> names;
  for (auto& [name, t] : wrapper.named_parameters()) names.push_back(name);
  std::vector<std::string> expect{"body.fc1.weight", "body.fc1.bias", "body.fc2.weight", "body.fc2.bias",
                                  "norm.weight",     "norm.bias",     "head.weight",     "head.bias"};
  BOOST_TEST(names == expect, boost::test_tools::per_element());
  auto state = wrapper.state_dict();
  BOOST_TEST(state.count("scale") == 1u);
  TransparentWrapper copy(gen);
  copy.load_state_dict(state);
  BOOST_TEST(copy.inner->body->fc1->weight.to_double_vector() == wrapper.inner->body->fc1->weight.to_double_vector(),
             boost::test_tools::per_element());
  BOOST_TEST(wrapper.find_modules<nn::LayerNorm>().size() == 2u);
}

BOOST_AUTO_TEST_CASE(named_parameters_and_state_dict) {
  Generator gen(1, 0);
  TinyNet net(gen);
  std::vector<std::string> names;
  for (auto& [name, t] : net.named_parameters()) names.push_back(name);
  std::vector<std::string> expect{"body.fc1.weight", "body.fc1.bias", "body.fc2.weight", "body.fc2.bias",
                                  "norm.weight", "norm.bias"};
  BOOST_TEST(names == expect, boost::test_tools::per_element());
  BOOST_TEST(net.parameter_count() == 4 * 8 + 8 + 8 * 3 + 3 + 3 + 3);
  auto state = net.state_dict();
  BOOST_TEST(state.count("scale") == 1u);

  Generator other(2, 0);
  TinyNet copy(other);
  BOOST_TEST(copy.body->fc1->weight.to_double_vector() != net.body->fc1->weight.to_double_vector());
  copy.load_state_dict(state);
  BOOST_TEST(copy.body->fc1->weight.to_double_vector() == net.body->fc1->weight.to_double_vector(),
             boost::test_tools::per_element());

  auto wrong = state;
  wrong["body.fc1.weight"] = Tensor::zeros({2, 2});
  BOOST_CHECK_THROW(copy.load_state_dict(wrong), Error);
  auto missing = state;
  missing.erase("norm.bias");
  BOOST_CHECK_THROW(copy.load_state_dict(missing), Error);
  auto extra = state;
  extra["nope"] = Tensor::zeros({1});
  BOOST_CHECK_THROW(copy.load_state_dict(extra), Error);
}

BOOST_AUTO_TEST_CASE(default_init_bounds_and_zero_init) {
  Generator gen(3, 0);
  nn::Linear lin(100, 50, true, gen);
  for (double v : lin.weight.to_double_vector()) BOOST_TEST_REQUIRE(std::abs(v) <= 0.1);
  nn::Conv2d zero(4, 6, 3, true, gen, nn::Init::zeros);
  for (double v : zero.weight.to_double_vector()) BOOST_TEST_REQUIRE(v == 0.0);
  BOOST_TEST(zero.padding() == 1);
  Tensor y = zero.forward(Tensor::ones({2, 4, 5, 5}));
  BOOST_TEST((y.shape() == Shape{2, 6, 5, 5}));
  BOOST_CHECK_THROW(nn::Conv2d(4, 6, 2, true, gen), Error);
}

BOOST_AUTO_TEST_CASE(kv_cache_matches_full_attention) {
  Generator gen(4, 0);
  nn::CausalSelfAttention attention(16, 8, gen);
  Tensor x = normal({2, 6, 16}, 0.0, 1.0, gen);
  for (double temperature : {1.0, 0.7}) {
    NoGradGuard no_grad;
    std::vector<double> full = attention.forward(x, temperature).to_double_vector();
    nn::KVCache cache;
    std::vector<Tensor> steps;
    steps.push_back(attention.forward_cached(x.slice(1, 0, 2), cache, 6, temperature));  // a prefix at once
    for (int t = 2; t < 6; ++t) steps.push_back(attention.forward_cached(x.slice(1, t, t + 1), cache, 6, temperature));
    std::vector<double> cached = concat(steps, 1).to_double_vector();
    BOOST_TEST_REQUIRE(cached.size() == full.size());
    for (size_t i = 0; i < full.size(); ++i) BOOST_TEST_REQUIRE(std::abs(cached[i] - full[i]) < 1e-5);
    BOOST_CHECK_THROW(attention.forward_cached(x.slice(1, 0, 1), cache, 6, temperature), Error);  // cache full
  }
}

BOOST_AUTO_TEST_CASE(attention_is_causal) {
  Generator gen(5, 0);
  nn::CausalSelfAttention attention(8, 4, gen);
  Tensor x = normal({1, 5, 8}, 0.0, 1.0, gen);
  Tensor y = attention.forward(x);
  Tensor x2 = x.clone();
  x2.slice(1, 3, 4).fill_(10.0);  // change token 3
  Tensor y2 = attention.forward(x2);
  std::vector<double> a = y.to_double_vector(), b = y2.to_double_vector();
  for (size_t i = 0; i < 3 * 8; ++i) BOOST_TEST_REQUIRE(a[i] == b[i]);  // tokens 0..2 untouched
  BOOST_TEST(a[3 * 8] != b[3 * 8]);
}

BOOST_AUTO_TEST_SUITE_END()
