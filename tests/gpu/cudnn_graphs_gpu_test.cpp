// The cuDNN graphs (framework/kernels/cuda/cudnn_graphs.cpp) against the CPU
// kernels in f64 on the same inputs: causal SDPA in bf16 and f16 within half
// precision's tolerance (the inputs are rounded once, and both sides see the
// rounded values), layer norm in f32. Compiled only with CUDA; main.cpp skips
// without a device.
#include <boost/test/unit_test.hpp>

#if defined(FLOWTRAIN_HAVE_CUDA)

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "framework/core/tensor.h"
#include "framework/kernels/cuda/cudnn_graphs.h"
#include "framework/kernels/kernels.h"
#include "tests/support/tensor_compare.h"

namespace {

using namespace ft;

const Device kGpu = Device::cuda(0);

Tensor random_f64(const Shape& shape, uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<double> dist(0.0, 1.0);
  std::vector<double> values(size_t(numel_of(shape)));
  for (double& v : values) v = dist(gen);
  return Tensor::from_vector(values, shape);
}

// x rounded to dtype and back, on the host in f64.
Tensor rounded(const Tensor& x, DType dtype) { return kernels::cast(kernels::cast(x, dtype), DType::f64); }

Tensor to_device(const Tensor& host, DType dtype) {
  Tensor d = Tensor::empty(host.shape(), dtype, kGpu);
  d.copy_(host);
  return d;
}

Tensor to_host_f64(const Tensor& device) {
  Tensor h = Tensor::empty(device.shape(), DType::f64);
  h.copy_(device);
  return h;
}

// bf16 keeps 8 bits of mantissa, f16 11: the kernel rounds its output and
// probabilities to the half type once more than the f64 reference.
double half_tolerance(DType dtype) { return dtype == DType::bf16 ? 2e-2 : 4e-3; }

}  // namespace

BOOST_AUTO_TEST_SUITE(cudnn_graphs)

BOOST_AUTO_TEST_CASE(causal_attention_matches_cpu_f64) {
  // 70 tokens: the causal mask crosses a partial tile.
  const Shape shape{2, 3, 70, 64};
  const double scale = 1.0 / std::sqrt(64.0);
  for (DType dtype : {DType::bf16, DType::f16}) {
    BOOST_TEST_CONTEXT(dtype_name(dtype)) {
      Tensor q = rounded(random_f64(shape, 1), dtype), k = rounded(random_f64(shape, 2), dtype),
             v = rounded(random_f64(shape, 3), dtype), grad_out = rounded(random_f64(shape, 4), dtype);
      Tensor want_lse;
      Tensor want = kernels::causal_attention(q, k, v, scale, &want_lse);
      Tensor want_gq, want_gk, want_gv;
      kernels::causal_attention_backward(q, k, v, want, want_lse, grad_out, scale, &want_gq, &want_gk, &want_gv);

      Tensor dq = to_device(q, dtype), dk = to_device(k, dtype), dv = to_device(v, dtype);
      Tensor lse;
      Tensor out = kernels::cuda::cudnn_causal_attention(dq, dk, dv, scale, &lse);
      BOOST_TEST(out.dtype() == DType::f32);
      BOOST_TEST(lse.dtype() == DType::f32);
      BOOST_TEST(lse.shape() == Shape({2, 3, 70}));
      const double tolerance = half_tolerance(dtype);
      testing::check_close("output", to_host_f64(out), want, tolerance);
      // The logsumexp is the f32 softmax statistic, before any half rounding.
      testing::check_close("logsumexp", to_host_f64(lse), want_lse, 1e-4);

      Tensor gq, gk, gv;
      kernels::cuda::cudnn_causal_attention_backward(dq, dk, dv, out, lse, to_device(grad_out, DType::f32), scale,
                                                     &gq, &gk, &gv);
      testing::check_close("grad_q", to_host_f64(gq), want_gq, 2 * tolerance);
      testing::check_close("grad_k", to_host_f64(gk), want_gk, 2 * tolerance);
      testing::check_close("grad_v", to_host_f64(gv), want_gv, 2 * tolerance);
    }
  }
}

BOOST_AUTO_TEST_CASE(attention_rejects_f32_and_mismatched_inputs) {
  Tensor f32 = Tensor::zeros({1, 1, 8, 8}, DType::f32, kGpu);
  BOOST_CHECK_THROW(kernels::cuda::cudnn_causal_attention(f32, f32, f32, 1.0, nullptr), Error);
  Tensor a = Tensor::zeros({1, 1, 8, 8}, DType::bf16, kGpu), b = Tensor::zeros({1, 1, 16, 8}, DType::bf16, kGpu);
  BOOST_CHECK_THROW(kernels::cuda::cudnn_causal_attention(a, b, b, 1.0, nullptr), Error);
}

BOOST_AUTO_TEST_CASE(layer_norm_matches_cpu_f64) {
  const Shape shape{5, 7, 96};
  Tensor x = rounded(random_f64(shape, 5), DType::f32), grad_y = rounded(random_f64(shape, 6), DType::f32);
  Tensor weight = rounded(random_f64({96}, 7), DType::f32), bias = rounded(random_f64({96}, 8), DType::f32);
  const double eps = 1e-5;
  Tensor want_mean, want_rstd;
  Tensor want = kernels::layer_norm(x, weight, bias, eps, &want_mean, &want_rstd);
  Tensor want_gx, want_gw, want_gb;
  kernels::layer_norm_backward(grad_y, x, weight, want_mean, want_rstd, &want_gx, &want_gw, &want_gb);

  Tensor mean, rstd;
  Tensor dx = to_device(x, DType::f32);
  Tensor dw = to_device(weight, DType::f32);
  Tensor y = kernels::cuda::cudnn_layer_norm(dx, dw, to_device(bias, DType::f32), eps, &mean, &rstd);
  BOOST_TEST(y.shape() == shape);
  BOOST_TEST(mean.shape() == Shape({35}));
  testing::check_close("y", to_host_f64(y), want, 1e-5);
  testing::check_close("mean", to_host_f64(mean), want_mean, 1e-5);
  testing::check_close("rstd", to_host_f64(rstd), want_rstd, 1e-5);

  Tensor gx, gw, gb;
  kernels::cuda::cudnn_layer_norm_backward(to_device(grad_y, DType::f32), dx, dw, mean, rstd, &gx, &gw, &gb);
  testing::check_close("grad_x", to_host_f64(gx), want_gx, 1e-5);
  testing::check_close("grad_weight", to_host_f64(gw), want_gw, 1e-5);
  testing::check_close("grad_bias", to_host_f64(gb), want_gb, 1e-5);

  // Without the affine parameters: the plain normalisation and only grad_x.
  Tensor plain = kernels::cuda::cudnn_layer_norm(dx, Tensor(), Tensor(), eps, &mean, &rstd);
  testing::check_close("unscaled y", to_host_f64(plain), kernels::layer_norm(x, Tensor(), Tensor(), eps, nullptr, nullptr),
                       1e-5);
  kernels::cuda::cudnn_layer_norm_backward(to_device(grad_y, DType::f32), dx, Tensor(), mean, rstd, &gx, &gw, &gb);
  BOOST_TEST(gx.defined());
  BOOST_TEST(!gw.defined());
}

BOOST_AUTO_TEST_SUITE_END()

#endif  // FLOWTRAIN_HAVE_CUDA
