// The flow library against the real libraries: tests/golden/make_flows_golden.py builds
// nflows 0.14's MaskedAffineAutoregressiveTransform, AffineCouplingTransform and
// rational-quadratic spline coupling and autoregressive transforms, and
// normflows 1.7.3's Planar and Radial, gives them random weights and runs them in
// float64. Here the same weights are loaded by state_dict name, the C++ transforms run
// in f64 and f32, and forward (and nflows' inverse) outputs and log-determinants are
// compared in the tests' one metric (max |actual - expected| / max |expected|):
// 1e-10 in f64, 1e-5 in f32.
#include <boost/test/unit_test.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "framework/autograd/grad_mode.h"
#include "framework/ops/ops.h"
#include "layers/flows/coupling.h"
#include "layers/flows/masked_autoregressive.h"
#include "layers/flows/planar.h"
#include "layers/flows/radial.h"
#include "layers/flows/residual_block.h"
#include "tests/support/golden_file.h"
#include "tests/support/tensor_compare.h"

using namespace ft;
using namespace ft::layers::flows;

namespace {

const testing::GoldenFile& golden() {
  static const testing::GoldenFile file("flows.h5", "golden_flows");
  return file;
}

// A dataset at full precision in dtype (GoldenGroup::tensor reads f32).
Tensor read(const testing::GoldenGroup& g, const std::string& name, DType dtype) {
  Shape shape = g.tensor(name).shape();
  return Tensor::from_vector(g.doubles(name), shape).to(dtype);
}

void check_case(const std::string& name, const std::function<std::shared_ptr<Transform>(Generator&)>& make,
                bool has_inverse) {
  testing::GoldenGroup g = golden().open_case(name);
  for (DType dtype : {DType::f64, DType::f32}) {
    BOOST_TEST_CONTEXT(name << " " << dtype_name(dtype)) {
      Generator gen(0);
      std::shared_ptr<Transform> t = make(gen);
      t->to_dtype(dtype);
      auto params = t->named_parameters();
      BOOST_REQUIRE_EQUAL(int64_t(params.size()), g.tensor("param_count").to_vector<int64_t>().at(0));
      std::map<std::string, Tensor> state;
      for (const auto& [pname, p] : params) state[pname] = read(g, "param/" + pname, dtype);
      for (const auto& [bname, b] : t->named_buffers()) state[bname] = b;
      t->load_state_dict(state);
      double tolerance = dtype == DType::f64 ? 1e-10 : 1e-5;
      Tensor x = read(g, "x", dtype);
      Tensor context = g.has("context") ? read(g, "context", dtype) : Tensor();
      TransformResult forward = t->forward(x, context);
      double worst = testing::check_close(name + " z", forward.y, read(g, "z", dtype), tolerance);
      worst = std::max(worst, testing::check_close(name + " logabsdet", forward.logabsdet, read(g, "logabsdet", dtype),
                                                   tolerance));
      if (has_inverse) {
        TransformResult inverse = t->inverse(read(g, "z", dtype), context);
        worst = std::max(worst, testing::check_close(name + " inverse", inverse.y, read(g, "x_inverse", dtype), tolerance));
        worst = std::max(worst, testing::check_close(name + " inverse logabsdet", inverse.logabsdet,
                                                     read(g, "logabsdet_inverse", dtype), tolerance));
      }
      BOOST_TEST_MESSAGE(name << " " << dtype_name(dtype) << ": worst relative error " << worst);
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(flows_parity)

BOOST_AUTO_TEST_CASE(nflows_maf) {
  check_case("maf", [](Generator& gen) { return std::make_shared<MaskedAffineAutoregressive>(4, 8, 2, 0, gen); }, true);
  check_case("maf_conditional",
             [](Generator& gen) { return std::make_shared<MaskedAffineAutoregressive>(4, 8, 3, 3, gen); }, true);
}

BOOST_AUTO_TEST_CASE(nflows_affine_coupling) {
  check_case("affine_coupling", [](Generator& gen) {
    return std::make_shared<CouplingTransform>(alternating_mask(5, false), CouplingKind::affine, 7, 2, 0, gen);
  }, true);
  check_case("affine_coupling_conditional", [](Generator& gen) {
    return std::make_shared<CouplingTransform>(alternating_mask(5, true), CouplingKind::affine, 7, 1, 3, gen);
  }, true);
}

BOOST_AUTO_TEST_CASE(nflows_rational_quadratic_splines) {
  check_case("spline_coupling", [](Generator& gen) {
    return std::make_shared<CouplingTransform>(alternating_mask(5, true), CouplingKind::rational_quadratic, 7, 2, 0, gen,
                                               SplineOptions{4, 1.5});
  }, true);
  check_case("spline_coupling_conditional", [](Generator& gen) {
    return std::make_shared<CouplingTransform>(alternating_mask(5, true), CouplingKind::rational_quadratic, 7, 1, 3, gen,
                                               SplineOptions{5, 1.5});
  }, true);
  check_case("spline_autoregressive", [](Generator& gen) {
    return std::make_shared<MaskedRationalQuadraticAutoregressive>(4, 8, 2, 0, SplineOptions{4, 1.5}, gen);
  }, true);
  check_case("spline_autoregressive_conditional", [](Generator& gen) {
    return std::make_shared<MaskedRationalQuadraticAutoregressive>(4, 8, 2, 3, SplineOptions{3, 1.5}, gen);
  }, true);
}

BOOST_AUTO_TEST_CASE(normflows_planar_and_radial) {
  check_case("planar", [](Generator& gen) { return std::make_shared<PlanarFlow>(4, gen); }, false);
  check_case("radial", [](Generator& gen) { return std::make_shared<RadialFlow>(4, gen); }, false);
}

// normflows' Residual(LipschitzMLP([2, 16, 2])) on its exact (brute-force) log-determinant
// path, with its weights and power-iteration vectors: the same map and log-determinant;
// the inverse returns x to flowtrain's tolerance, and normflows' own fixed point (tolerance
// 1e-5) agrees to what that allows.
BOOST_AUTO_TEST_CASE(normflows_residual_exact_logdet) {
  testing::GoldenGroup g = golden().open_case("residual");
  for (DType dtype : {DType::f64, DType::f32}) {
    BOOST_TEST_CONTEXT("residual " << dtype_name(dtype)) {
      Generator gen(0);
      nn::SpectralNormOptions spectral;
      spectral.coefficient = 0.97;
      ResidualBlockOptions options;
      options.estimator = LogdetEstimator::exact;
      options.inverse_tolerance = dtype == DType::f64 ? 1e-13 : 1e-6;
      ResidualBlock block(LipschitzNetwork::mlp({2, 16, 2}, spectral, gen), options, "residual");
      block.to_dtype(dtype);
      BOOST_REQUIRE_EQUAL(int64_t(block.named_parameters().size()), g.tensor("param_count").to_vector<int64_t>().at(0));
      std::map<std::string, Tensor> state;
      for (const auto& [name, p] : block.named_parameters()) state[name] = read(g, "param/" + name, dtype);
      // normflows' vectors, converged there: no initial iterations here.
      for (const auto& [name, b] : block.named_buffers())
        state[name] = name.ends_with(".initialized") ? Tensor::scalar(1.0, dtype) : read(g, "buffer/" + name, dtype);
      block.load_state_dict(state);
      block.set_training(false);
      double tolerance = dtype == DType::f64 ? 1e-10 : 1e-5;
      Tensor x = read(g, "x", dtype);
      NoGradGuard no_grad;
      TransformResult forward = block.forward(x, Tensor());
      testing::check_close("residual z", forward.y, read(g, "z", dtype), tolerance);
      testing::check_close("residual logabsdet", forward.logabsdet, read(g, "logabsdet", dtype), tolerance);
      TransformResult inverse = block.inverse(forward.y, Tensor());
      testing::check_close("residual inverse", inverse.y, x, dtype == DType::f64 ? 1e-11 : 1e-5);
      testing::check_close("residual inverse logabsdet", inverse.logabsdet, neg(forward.logabsdet), tolerance);
      testing::check_close("normflows' inverse", inverse.y, read(g, "x_inverse", dtype), 1e-3);
      testing::check_close("normflows' inverse logabsdet", inverse.logabsdet, read(g, "logabsdet_inverse", dtype), 1e-3);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
