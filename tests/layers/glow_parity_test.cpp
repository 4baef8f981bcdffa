// Glow against PyTorch: tests/golden/make_glow_golden.py builds the same tiny models
// from openai/glow's semantics in torch, owns the weights and writes them with the
// input, log p(x), every latent, the loss and every parameter's gradient. Here the
// weights (and buffers: ActNorm `initialized` = 1, so no data-dependent init runs;
// the LU permutation and signs) are loaded by state_dict name, the C++ model runs
// in f32 and everything is compared element by element:
//   |actual - expected| <= 1e-4 * max(|expected|, rms(expected tensor)).
// The rms floor keeps elements that cancel to near zero (a gradient entry, a latent
// near the mean) from demanding more than f32 can give, while still bounding each
// element by the tensor's own magnitude rather than by its largest entry.
// Loss = -mean(log_prob) / D (D = C*H*W), the same formula as the script's.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include <fmt/core.h>

#include "tests/layers/golden_file.h"
#include "framework/ops/ops.h"
#include "layers/glow/glow.h"

using namespace ft;
using namespace ft::layers;

namespace {

constexpr double kRelativeTolerance = 1e-4;

const testing::GoldenFile& golden() {
  static const testing::GoldenFile file("glow.h5", "golden_glow");
  return file;
}

Tensor read(const std::string& name) { return golden().read(name); }

struct GoldenModel {
  std::unique_ptr<Glow> model;
  Tensor labels;  // undefined for unconditional cases
};

GoldenModel load_case(const std::string& name) {
  std::vector<int64_t> c = read(name + "/config").to_vector<int64_t>();
  BOOST_REQUIRE_EQUAL(c.size(), 9u);
  GlowConfig config;
  config.channels = c[0];
  config.image_size = c[1];
  config.levels = c[2];
  config.depth = c[3];
  config.width = c[4];
  config.coupling = c[5] == 0 ? Coupling::affine : Coupling::additive;
  config.permutation = c[6] == 0 ? Permutation::lu : Permutation::plain;
  config.learn_top = c[7] != 0;
  config.num_classes = c[8];
  Generator gen(0);
  GoldenModel g{std::make_unique<Glow>(config, gen), Tensor()};
  // Every C++ name must be in the file and the file must hold no other parameter:
  // a name the script spelled differently would otherwise go unnoticed.
  auto params = g.model->named_parameters();
  BOOST_REQUIRE_EQUAL(int64_t(params.size()), read(name + "/param_count").to_vector<int64_t>().at(0));
  std::map<std::string, Tensor> state;
  for (const auto& [pname, p] : params) state[pname] = read(name + "/param/" + pname);
  for (const auto& [bname, b] : g.model->named_buffers()) state[bname] = read(name + "/buffer/" + bname);
  g.model->load_state_dict(state);
  for (const auto& actnorm : g.model->actnorms())
    BOOST_REQUIRE_MESSAGE(actnorm->is_initialized(), name << ": an ActNorm would re-initialise from the batch");
  if (config.num_classes > 0) g.labels = read(name + "/labels");
  return g;
}

// Worst |a - b| / max(|b|, rms(b)) over the elements; an all-zero expected tensor
// must be matched exactly (0/0 counts as 0, anything else as infinity).
double relative_error(const Tensor& actual, const Tensor& expected) {
  std::vector<double> a = actual.to_double_vector(), b = expected.to_double_vector();
  BOOST_REQUIRE_EQUAL(a.size(), b.size());
  double sum_squares = 0.0;
  for (double v : b) sum_squares += v * v;
  double rms = b.empty() ? 0.0 : std::sqrt(sum_squares / double(b.size()));
  double worst = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    double diff = std::abs(a[i] - b[i]), scale = std::max(std::abs(b[i]), rms);
    if (!std::isfinite(a[i])) return INFINITY;
    if (diff > 0.0) worst = std::max(worst, scale > 0.0 ? diff / scale : INFINITY);
  }
  return worst;
}

double check_close(const std::string& what, const Tensor& actual, const Tensor& expected) {
  BOOST_REQUIRE_MESSAGE(actual.shape() == expected.shape(), what << ": shape " << shape_str(actual.shape())
                                                                  << " but the reference has "
                                                                  << shape_str(expected.shape()));
  double err = relative_error(actual, expected);
  BOOST_TEST(err <= kRelativeTolerance, what << ": relative error " << err);
  return err;
}

void check_case(const std::string& name) {
  GoldenModel g = load_case(name);
  Tensor x = read(name + "/x");
  ModelOutput out = g.model->forward(x, g.labels);

  double worst_forward = check_close(name + " log_prob", out.log_prob, read(name + "/log_prob"));
  BOOST_REQUIRE_EQUAL(int64_t(out.latents.size()), g.model->config().levels);
  for (size_t i = 0; i < out.latents.size(); ++i) {
    std::string latent = fmt::format("latent_{}", i);
    worst_forward = std::max(worst_forward, check_close(name + " " + latent, out.latents[i], read(name + "/" + latent)));
  }
  Tensor loss = mul(mean(out.log_prob), -1.0 / double(g.model->dims()));
  worst_forward = std::max(worst_forward, check_close(name + " loss", loss, read(name + "/loss")));

  g.model->zero_grad();
  loss.backward();
  double worst_grad = 0.0;
  for (const auto& [pname, p] : g.model->named_parameters()) {
    // A parameter the loss does not reach has no gradient: the top prior's conv
    // weight, because its input is all zeros (torch's gradient is exactly zero).
    Tensor grad = p.grad().defined() ? p.grad() : Tensor::zeros(p.shape(), p.dtype());
    worst_grad = std::max(worst_grad, check_close(name + " grad " + pname, grad, read(name + "/grad/" + pname)));
  }
  BOOST_TEST_MESSAGE(name << ": worst relative error " << worst_forward << " forward (log_prob, latents, loss), "
                          << worst_grad << " parameter gradients");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(glow_parity)

BOOST_AUTO_TEST_CASE(affine_lu) { check_case("affine_lu"); }
BOOST_AUTO_TEST_CASE(additive_plain_three_levels_fixed_top) { check_case("additive_plain"); }
BOOST_AUTO_TEST_CASE(affine_lu_class_conditional) { check_case("affine_lu_conditional"); }

BOOST_AUTO_TEST_SUITE_END()
