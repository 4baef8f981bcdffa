// train.recompute's models: TARFLOW (per block) and Glow (per step) give the same
// log-likelihood and the same parameter gradients with recomputation as without,
// in f32 and under bf16 autocast, conditional and in training mode (TARFLOW's label
// dropout draws the same labels).
#include <boost/test/unit_test.hpp>

#include "framework/ops/ops.h"
#include "framework/precision/autocast.h"
#include "layers/glow/glow.h"
#include "tests/layers/tarflow_test_util.h"

using namespace ft;
using namespace ft::layers;

namespace {

struct Pass {
  std::vector<double> log_prob;
  std::vector<std::vector<double>> grads;  // per parameter, in registration order
};

Pass run(FlowModel& model, const Tensor& x, const Tensor& labels, DType autocast) {
  for (Tensor& p : model.parameters()) p.set_grad(Tensor());
  model.set_forward_generator(Generator(3, 0x1AB0D0));
  Tensor log_prob;
  {
    AutocastGuard guard(autocast);
    log_prob = model.forward(x, labels).log_prob;
  }
  sum(log_prob).backward();
  Pass pass{log_prob.to_double_vector(), {}};
  for (Tensor& p : model.parameters())
    pass.grads.push_back(p.grad().defined() ? p.grad().to_double_vector() : std::vector<double>{});
  return pass;
}

// The same pass without and with recomputation; the first warm-up pass runs the
// data-dependent initialisations (ActNorm) so both see the same parameters.
// unused: parameters the model's forward leaves without a gradient either way.
void check_same_with_recompute(FlowModel& model, const Tensor& x, const Tensor& labels, size_t unused) {
  model.set_training(true);
  run(model, x, labels, DType::f32);
  for (DType autocast : {DType::f32, DType::bf16}) {
    BOOST_TEST_CONTEXT("autocast " << dtype_name(autocast)) {
      BOOST_TEST(model.set_recompute(false));
      Pass plain = run(model, x, labels, autocast);
      BOOST_TEST(model.set_recompute(true));
      Pass again = run(model, x, labels, autocast);
      BOOST_TEST(again.log_prob == plain.log_prob);
      BOOST_REQUIRE(again.grads.size() == plain.grads.size());
      size_t with_gradient = 0;
      for (size_t i = 0; i < plain.grads.size(); ++i) {
        with_gradient += !plain.grads[i].empty();
        BOOST_TEST_CONTEXT("parameter " << model.named_parameters()[i].first) {
          BOOST_TEST(again.grads[i] == plain.grads[i]);
        }
      }
      BOOST_TEST(with_gradient + unused == plain.grads.size());
    }
  }
  model.set_recompute(false);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(recompute_models)

BOOST_AUTO_TEST_CASE(tarflow_blocks_recompute_to_the_same_gradients) {
  Generator gen(21, 0);
  TarflowConfig config = tarflow_test::tiny_config(3);
  config.label_dropout = 0.5;
  Tarflow model(config, gen);
  tarflow_test::perturb(model, gen);
  Generator data(22, 0);
  Tensor x = normal({4, 2, 4, 4}, 0.0, 0.5, data);
  check_same_with_recompute(model, x, Tensor::from_vector<int64_t>({0, 1, 2, 1}, {4}), 0);
}

BOOST_AUTO_TEST_CASE(glow_steps_recompute_to_the_same_gradients) {
  GlowConfig config;
  config.channels = 2;
  config.image_size = 8;
  config.levels = 2;
  config.depth = 3;
  config.width = 8;
  config.num_classes = 2;
  Generator gen(23, 0);
  Glow model(config, gen);
  Generator data(24, 0);
  Tensor x = uniform({4, 2, 8, 8}, -0.5, 0.5, data);
  // A class-conditional top prior reads the labels alone: its convolution is unused.
  check_same_with_recompute(model, x, Tensor::from_vector<int64_t>({0, 1, 1, 0}, {4}), 1);
}

BOOST_AUTO_TEST_SUITE_END()
