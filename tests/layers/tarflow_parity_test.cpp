// TARFLOW against PyTorch: tests/golden/make_tarflow_golden.py builds the same tiny
// models with apple/ml-tarflow's modules, owns the weights and writes them with
// z, log-determinants, the loss, every parameter's gradient, the score d log p / dx
// and a guided reverse pass. Here the weights are loaded by state_dict name and
// everything is compared in f32 to 1e-4 in the tests' one metric
// (tests/support/tensor_compare.h): max |actual - expected| / max |expected|.
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "tests/support/golden_file.h"
#include "tests/support/tensor_compare.h"
#include "tests/layers/tarflow_test_util.h"

using namespace ft;
using namespace ft::layers;
using namespace ft::tarflow_test;

namespace {

constexpr double kRelativeTolerance = 1e-4;

const testing::GoldenFile& golden() {
  static const testing::GoldenFile file("tarflow.h5", "golden_tarflow");
  return file;
}

Tensor read(const std::string& name) { return golden().tensor(name); }

struct GoldenModel {
  std::unique_ptr<Tarflow> model;
  Tensor labels;  // undefined for the unconditional case
};

GoldenModel load_case(const std::string& name) {
  std::vector<int64_t> c = read(name + "/config").to_vector<int64_t>();
  TarflowConfig config;
  config.channels = c[0];
  config.image_size = c[1];
  config.patch_size = c[2];
  config.width = c[3];
  config.blocks = c[4];
  config.layers_per_block = c[5];
  config.head_dim = c[6];
  config.num_classes = c[7];
  Generator gen(0);
  GoldenModel g{std::make_unique<Tarflow>(config, gen), Tensor()};
  std::map<std::string, Tensor> state;
  for (const auto& [pname, p] : g.model->named_parameters()) state[pname] = read(name + "/param/" + pname);
  g.model->load_state_dict(state);
  g.model->set_training(false);  // label dropout off: the labels are the file's
  if (config.num_classes > 0) g.labels = read(name + "/labels");
  return g;
}

double check_close(const std::string& what, const Tensor& actual, const Tensor& expected) {
  const double error = testing::check_close(what, actual, expected, kRelativeTolerance);
  BOOST_TEST_MESSAGE(what << ": error " << error << " x scale");
  return error;
}

void check_forward_and_gradients(const std::string& name) {
  GoldenModel g = load_case(name);
  Tensor x = read(name + "/x");
  TarflowTransform t = g.model->transform(x, g.labels);
  check_close(name + " z", t.z, read(name + "/z"));
  check_close(name + " logdet", t.logdet, read(name + "/logdet"));
  Tensor loss = Tarflow::loss(t.z, t.logdet);
  check_close(name + " loss", loss, read(name + "/loss"));
  loss.backward();
  double worst = 0.0;
  for (const auto& [pname, p] : g.model->named_parameters()) {
    worst = std::max(worst, testing::check_close(name + " grad " + pname, p.grad(), read(name + "/grad/" + pname),
                                                 kRelativeTolerance));
  }
  BOOST_TEST_MESSAGE(name << " parameter gradients: worst error " << worst << " x scale");
  g.model->zero_grad();

  Tensor xg = x.clone();
  xg.set_requires_grad(true);
  Tensor log_prob = g.model->forward(xg, g.labels).log_prob;
  check_close(name + " log_prob", log_prob, read(name + "/log_prob"));
  sum(log_prob).backward();
  check_close(name + " d log p / dx", xg.grad(), read(name + "/x_grad"));
}

void check_reverse(const std::string& name) {
  GoldenModel g = load_case(name);
  InverseOptions options;
  options.guidance = read(name + "/reverse_guidance").item();
  options.attention_temperature = read(name + "/reverse_attn_temp").item();
  Tensor labels = g.labels.defined() ? read(name + "/reverse_labels") : Tensor();
  Tensor x = g.model->reverse(read(name + "/reverse_z"), labels, options);
  check_close(name + " guided reverse", x, read(name + "/reverse_x"));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tarflow_parity)

BOOST_AUTO_TEST_CASE(conditional_forward_loss_and_gradients) { check_forward_and_gradients("conditional"); }
BOOST_AUTO_TEST_CASE(unconditional_forward_loss_and_gradients) { check_forward_and_gradients("unconditional"); }
BOOST_AUTO_TEST_CASE(conditional_guided_reverse) { check_reverse("conditional"); }
BOOST_AUTO_TEST_CASE(unconditional_guided_reverse) { check_reverse("unconditional"); }

BOOST_AUTO_TEST_SUITE_END()
