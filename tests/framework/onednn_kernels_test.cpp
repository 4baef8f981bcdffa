// f32 and bf16 convolutions and bf16 matrix products run on oneDNN; f64 runs on
// flowtrain's own im2col path and OpenBLAS. Both paths
// compute the same function: each oneDNN result against the f64 one on the same
// (rounded) inputs, forward and both gradients, over the shapes that pick
// different oneDNN kernels (1x1, 3x3 with and without padding, 5x5, few and many
// channels, a strided input), and the matmul operand layouts (transposes, broadcast
// batch dims, strided views, empty products).
#include <boost/test/unit_test.hpp>

#include <fmt/format.h>

#include "framework/kernels/kernels.h"
#include "framework/random/generator.h"
#include "framework/ops/ops.h"
#include "tests/support/tensor_compare.h"

using namespace ft;
using ft::testing::check_close;

namespace {

struct ConvCase {
  Shape x, weight;
  int64_t padding;
};

const ConvCase kCases[] = {
    {{2, 3, 7, 5}, {4, 3, 3, 3}, 1},       // few channels, odd sizes
    {{3, 16, 8, 8}, {32, 16, 1, 1}, 0},    // 1x1: oneDNN's GEMM-like kernel
    {{2, 5, 6, 6}, {7, 5, 3, 3}, 0},       // no padding
    {{1, 20, 9, 9}, {12, 20, 5, 5}, 2},    // 5x5
    {{4, 32, 12, 12}, {48, 32, 3, 3}, 1},  // blocked layouts throughout
};

struct ConvResult {
  Tensor y, grad_x, grad_weight;
};

ConvResult run_conv(const Tensor& x, const Tensor& w, const Tensor& gy, int64_t padding) {
  ConvResult r;
  r.y = kernels::conv2d(x, w, padding);
  kernels::conv2d_backward(x, w, gy, padding, &r.grad_x, &r.grad_weight);
  return r;
}

Tensor as_f64(const Tensor& t) { return kernels::cast(t, DType::f64); }

void check_against_f64(const std::string& name, const ConvResult& got, const ConvResult& want, double tolerance) {
  BOOST_TEST(got.y.dtype() == DType::f32);
  BOOST_TEST(got.grad_x.dtype() == DType::f32);
  BOOST_TEST(got.grad_weight.dtype() == DType::f32);
  check_close(name + " forward", got.y, want.y, tolerance);
  check_close(name + " grad x", got.grad_x, want.grad_x, tolerance);
  check_close(name + " grad weight", got.grad_weight, want.grad_weight, tolerance);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(onednn_kernels)

BOOST_AUTO_TEST_CASE(f32_matches_the_f64_reference) {
  Generator gen(11, 0);
  for (const ConvCase& c : kCases) {
    Tensor x = normal(c.x, 0, 1, gen), w = normal(c.weight, 0, 0.3, gen);
    Tensor y_shape = kernels::conv2d(x, w, c.padding);
    Tensor gy = normal(y_shape.shape(), 0, 1, gen);
    ConvResult want = run_conv(as_f64(x), as_f64(w), as_f64(gy), c.padding);
    check_against_f64(fmt::format("f32 x{} w{}", shape_str(c.x), shape_str(c.weight)),
                      run_conv(x, w, gy, c.padding), want, 2e-6);
  }
}

// bf16 inputs multiply exactly in f32, so against f64 on the bf16-rounded inputs
// (grad_y rounded too, as the bf16 kernels take it) only f32 accumulation differs.
BOOST_AUTO_TEST_CASE(bf16_matches_the_f64_reference_on_rounded_inputs) {
  Generator gen(12, 0);
  for (const ConvCase& c : kCases) {
    Tensor x = kernels::cast(normal(c.x, 0, 1, gen), DType::bf16);
    Tensor w = kernels::cast(normal(c.weight, 0, 0.3, gen), DType::bf16);
    Tensor gy32 = normal(kernels::conv2d(x, w, c.padding).shape(), 0, 1, gen);
    Tensor gy_rounded = kernels::cast(gy32, DType::bf16);
    ConvResult want = run_conv(as_f64(x), as_f64(w), as_f64(gy_rounded), c.padding);
    ConvResult got = run_conv(x, w, gy32, c.padding);
    check_against_f64(fmt::format("bf16 x{} w{}", shape_str(c.x), shape_str(c.weight)), got, want, 2e-6);
    // The gradient really was rounded: against the unrounded grad_y it is off by ~bf16's epsilon.
    ConvResult unrounded = run_conv(as_f64(x), as_f64(w), as_f64(gy32), c.padding);
    BOOST_TEST(ft::testing::compare(got.grad_x, unrounded.grad_x).error > 1e-4);
  }
}

BOOST_AUTO_TEST_CASE(strided_inputs_and_mixed_dtypes_are_accepted) {
  Generator gen(13, 0);
  Tensor x = normal({2, 4, 6, 9}, 0, 1, gen).transpose(2, 3);  // [2, 4, 9, 6], not dense
  Tensor w = normal({5, 4, 3, 3}, 0, 0.3, gen);
  Tensor gy = normal({2, 5, 6, 9}, 0, 1, gen).transpose(2, 3);
  ConvResult want = run_conv(as_f64(x), as_f64(w), as_f64(gy), 1);
  check_against_f64("strided f32", run_conv(x, w, gy, 1), want, 2e-6);
  // f16 and mixed pairs compute in f32.
  Tensor x16 = kernels::cast(x, DType::f16);
  ConvResult mixed = run_conv(x16, w, gy, 1);
  check_against_f64("f16 x with f32 weight", mixed, run_conv(as_f64(x16), as_f64(w), as_f64(gy), 1), 2e-6);
}

struct MatmulCase {
  Shape a, b;
  bool transpose_a, transpose_b;
};

BOOST_AUTO_TEST_CASE(bf16_matmul_matches_f64_on_rounded_inputs) {
  const MatmulCase cases[] = {
      {{2048, 256}, {1024, 256}, false, true},  // a TARFLOW linear: x W^T
      {{17, 33}, {33, 9}, false, false},
      {{33, 17}, {33, 9}, true, false},
      {{2, 3, 5, 7}, {7, 4}, false, false},     // batch dims broadcast on b
      {{1, 5, 7}, {3, 4, 7}, false, true},      // and on a
      {{4, 64, 64}, {4, 64, 32}, false, false},  // attention-like batched product
  };
  Generator gen(14, 0);
  for (const MatmulCase& c : cases) {
    Tensor a = kernels::cast(normal(c.a, 0, 1, gen), DType::bf16);
    Tensor b = kernels::cast(normal(c.b, 0, 1, gen), DType::bf16);
    Tensor got = kernels::matmul(a, b, c.transpose_a, c.transpose_b);
    BOOST_TEST(got.dtype() == DType::f32);
    Tensor want = kernels::matmul(as_f64(a), as_f64(b), c.transpose_a, c.transpose_b);
    check_close(fmt::format("bf16 matmul {}{} @ {}{}", shape_str(c.a), c.transpose_a ? "^T" : "", shape_str(c.b),
                            c.transpose_b ? "^T" : ""),
                got, want, 2e-6);
  }
}

BOOST_AUTO_TEST_CASE(bf16_matmul_takes_views_and_empty_products) {
  Generator gen(15, 0);
  Tensor base = kernels::cast(normal({6, 10}, 0, 1, gen), DType::bf16);
  Tensor view = base.transpose(0, 1);  // [10, 6], column-major
  Tensor b = kernels::cast(normal({6, 3}, 0, 1, gen), DType::bf16);
  check_close("bf16 matmul of a transposed view", kernels::matmul(view, b), kernels::matmul(as_f64(view), as_f64(b)),
              2e-6);
  Tensor k0a = Tensor::empty({4, 0}, DType::bf16), k0b = Tensor::empty({0, 5}, DType::bf16);
  Tensor zeros = kernels::matmul(k0a, k0b);
  BOOST_TEST(zeros.shape() == (Shape{4, 5}));
  BOOST_TEST(ft::testing::max_abs(zeros) == 0.0);
  BOOST_TEST(kernels::matmul(Tensor::empty({0, 3}, DType::bf16), b.transpose(0, 1)).numel() == 0);
  BOOST_CHECK_THROW(kernels::matmul(base, base), Error);  // inner sizes differ: named, not a crash
}

BOOST_AUTO_TEST_SUITE_END()
