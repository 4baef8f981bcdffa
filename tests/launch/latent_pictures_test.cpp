// reconstruct and interpolate on Glow and TARFLOW with non-trivial weights:
// decode(encode(x)) returns x, and an interpolation's endpoints are the
// reconstructions of its two images while the points between differ from both.
#include <boost/test/unit_test.hpp>

#include <algorithm>

#include "framework/autograd/grad_mode.h"
#include "framework/ops/ops.h"
#include "framework/random/generator.h"
#include "launch/latent_pictures.h"
#include "launch/model_factory.h"

using namespace ft;
using namespace ft::launch;

namespace {

const char* kGlow =
    "[model]\nkind = \"glow\"\nchannels = 1\nimage_size = 8\nlevels = 2\ndepth = 2\nwidth = 8\n";
const char* kTarflow =
    "[model]\nkind = \"tarflow\"\nchannels = 1\nimage_size = 8\npatch_size = 2\nwidth = 64\nblocks = 2\n"
    "layers_per_block = 1\nhead_dim = 32\n";

// A model whose every parameter is moved off its initial value (TARFLOW's zero
// output projections make a fresh model the identity, which would prove nothing).
std::shared_ptr<layers::FlowModel> perturbed_model(const Config& config) {
  Generator init(11, 0);
  auto model = build_model(config, init);
  NoGradGuard no_grad;
  Generator noise(12, 0);
  for (Tensor parameter : model->parameters()) parameter.copy_(parameter + normal(parameter.shape(), 0.0, 0.05, noise));
  return model;
}

ModelImages random_images(const layers::FlowModel& model, int64_t n) {
  Generator gen(13, 0);
  const Shape shape = model.data_shape();
  const layers::DataScaling s = model.scaling();
  return {uniform({n, shape[0], shape[1], shape[2]}, s.shift, s.brightest, gen), Tensor()};
}

double max_abs_difference(const Tensor& a, const Tensor& b) {
  double worst = 0.0;
  for (double d : abs(a - b).to_double_vector()) worst = std::max(worst, d);
  return worst;
}

void check_model(const std::string& toml, const std::vector<std::string>& overrides, bool conditional) {
  const Config config = Config::parse(toml, "latent-pictures-test", overrides);
  auto model = perturbed_model(config);
  ModelImages images = random_images(*model, 3);
  if (conditional) images.labels = Tensor::from_vector<int64_t>({2, 7, 4}, {3});

  const Reconstruction back = reconstruct(*model, images);
  BOOST_TEST(back.max_abs_error < 1e-4);
  BOOST_TEST(back.max_abs_error == max_abs_difference(back.decoded, images.x));

  ModelImages pair{images.x.slice(0, 0, 2), conditional ? images.labels.slice(0, 0, 2) : Tensor()};
  const Tensor path = interpolate(*model, pair, 5);
  BOOST_TEST(path.shape() == (Shape{5, images.x.size(1), images.x.size(2), images.x.size(3)}),
             boost::test_tools::per_element());
  BOOST_TEST(max_abs_difference(path.slice(0, 0, 1), back.decoded.slice(0, 0, 1)) < 1e-5);
  BOOST_TEST(max_abs_difference(path.slice(0, 4, 5), back.decoded.slice(0, 1, 2)) < 1e-5);
  BOOST_TEST(max_abs_difference(path.slice(0, 2, 3), images.x.slice(0, 0, 1)) > 1e-2);
  BOOST_TEST(max_abs_difference(path.slice(0, 2, 3), images.x.slice(0, 1, 2)) > 1e-2);
  BOOST_CHECK_THROW(interpolate(*model, pair, 1), ft::Error);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(latent_pictures)

BOOST_AUTO_TEST_CASE(glow_reconstructs_and_interpolates_between_exact_endpoints) { check_model(kGlow, {}, false); }

BOOST_AUTO_TEST_CASE(tarflow_reconstructs_and_interpolates_between_exact_endpoints) {
  check_model(kTarflow, {}, false);
}

BOOST_AUTO_TEST_CASE(conditional_models_decode_each_endpoint_with_its_own_label) {
  check_model(kGlow, {"model.num_classes=10"}, true);
  check_model(kTarflow, {"model.num_classes=10"}, true);
}

BOOST_AUTO_TEST_SUITE_END()
