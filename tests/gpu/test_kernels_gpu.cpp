// The CUDA backend against the CPU kernels on the same inputs: copies and fills
// (bit-exact), element-wise ops through the kernels.h entry points (which forward
// device tensors to the CUDA backend), last-dim sums, cuBLASLt GEMMs and linear,
// cuDNN convolutions and plain attention, with contiguous, strided and
// broadcasting operands; then what tests/framework's backend_ops_test cannot say:
// the max tie rule, sizes past one block or chunk, repeatable (bit-identical)
// gradients, bad device indices as errors, empty inputs. Compiled only with CUDA; in a
// CPU-only build main.cpp skips before any test runs.
#include <boost/test/unit_test.hpp>

#if defined(FLOWTRAIN_HAVE_CUDA)

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "framework/core/tensor.h"
#include "framework/kernels/cuda/cuda_allocator.h"
#include "framework/kernels/cuda/kernels_cuda.h"
#include "framework/kernels/kernels.h"
#include "tests/support/tensor_compare.h"

namespace {

using namespace ft;

const Device kGpu = Device::cuda(0);

Tensor random_tensor(const Shape& shape, DType dtype, double lo, double hi, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> values(size_t(numel_of(shape)));
  for (double& v : values) v = dist(gen);
  Tensor t = Tensor::from_vector(values, shape);
  return dtype == DType::f64 ? t : kernels::cast(t, dtype);
}

Tensor to_device(const Tensor& host) {
  Tensor d = Tensor::empty(host.shape(), host.dtype(), kGpu);
  d.copy_(host);
  return d;
}

Tensor to_host(const Tensor& device) {
  Tensor h = Tensor::empty(device.shape(), device.dtype());
  h.copy_(device);
  return h;
}

// Both tensors on the host, same shape and dtype, same bytes in logical order.
void check_bit_exact(const Tensor& got, const Tensor& want) {
  BOOST_REQUIRE(got.shape() == want.shape());
  BOOST_REQUIRE(got.dtype() == want.dtype());
  Tensor g = kernels::copy(got), w = kernels::copy(want);
  BOOST_CHECK_MESSAGE(std::memcmp(g.raw_data(), w.raw_data(), g.nbytes()) == 0,
                      "bytes differ for " << shape_str(got.shape()) << " " << dtype_name(got.dtype()));
}

// The device result against the CPU kernel's in the tests' one metric
// (tests/support/tensor_compare.h): max |got - want| / max |want| <= tolerance.
void check_close(const Tensor& got, const Tensor& want, double tolerance, const std::string& what) {
  BOOST_REQUIRE_MESSAGE(got.device().kind == DeviceKind::cpu, what);
  ft::testing::check_close(what, got, want, tolerance);
}

// 2e-5 (f32) and 2e-12 (f64) of the tensor's scale: the envelope of the earlier
// per-element rule |got - want| <= rtol (|want| + scale), rtol 1e-5 and 1e-12,
// which these kernels met.
double tolerance(DType dtype) { return dtype == DType::f64 ? 2e-12 : 2e-5; }

const std::vector<UnaryOp> kUnaryOps = {UnaryOp::neg,      UnaryOp::exp,  UnaryOp::log,  UnaryOp::sqrt, UnaryOp::square,
                                        UnaryOp::sigmoid,  UnaryOp::log_sigmoid, UnaryOp::softplus,
                                        UnaryOp::tanh,     UnaryOp::relu, UnaryOp::gelu, UnaryOp::abs,  UnaryOp::pow};

bool needs_positive(UnaryOp op) { return op == UnaryOp::log || op == UnaryOp::sqrt || op == UnaryOp::pow; }

}  // namespace

BOOST_AUTO_TEST_SUITE(cuda_kernels)

BOOST_AUTO_TEST_CASE(host_device_round_trip_is_bit_exact) {
  for (DType dtype : {DType::f32, DType::f64, DType::bf16, DType::f16, DType::i32, DType::i64, DType::u8}) {
    Tensor host = random_tensor({3, 5, 7}, dtype, 0.0, 200.0, 11);
    check_bit_exact(to_host(to_device(host)), host);
    // A strided host view goes up densely and comes back as the same values.
    Tensor view = host.permute({2, 0, 1}).slice(1, 1, 3);
    check_bit_exact(to_host(to_device(view)), view);
    // A strided device view comes down into a dense host tensor and into a strided one.
    Tensor device_view = to_device(host).permute({1, 2, 0});
    check_bit_exact(to_host(device_view), host.permute({1, 2, 0}));
    Tensor host_dst = Tensor::zeros({3, 5, 7}, dtype).permute({1, 2, 0});
    host_dst.copy_(device_view);
    check_bit_exact(host_dst, host.permute({1, 2, 0}));
  }
  // Special values survive unchanged.
  std::vector<float> specials = {0.0f, -0.0f, std::numeric_limits<float>::infinity(),
                                 -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN(),
                                 std::numeric_limits<float>::denorm_min(), 1e-40f, 3.4e38f};
  Tensor s = Tensor::from_vector(specials, {int64_t(specials.size())});
  check_bit_exact(to_host(to_device(s)), s);
}

BOOST_AUTO_TEST_CASE(device_conversion_matches_cpu_cast) {
  Tensor base = random_tensor({4, 6, 5}, DType::f64, -100.0, 100.0, 12);
  for (DType from : {DType::f64, DType::f32, DType::bf16, DType::f16}) {
    Tensor src = kernels::cast(base, from);
    Tensor device_src = to_device(src).permute({2, 0, 1});
    for (DType to : {DType::f32, DType::f64, DType::bf16, DType::f16, DType::i32, DType::i64}) {
      Tensor device_dst = Tensor::empty(device_src.shape(), to, kGpu);
      device_dst.copy_(device_src);  // device -> device, strided, converting
      Tensor want = kernels::cast(src.permute({2, 0, 1}), to);
      check_bit_exact(to_host(device_dst), want);
      // Host -> device with conversion on the way in.
      Tensor converted_in = Tensor::empty(src.shape(), to, kGpu);
      converted_in.copy_(src);
      check_bit_exact(to_host(converted_in), kernels::cast(src, to));
    }
  }
}

BOOST_AUTO_TEST_CASE(strided_broadcast_copy_and_fill) {
  Tensor row = random_tensor({1, 6}, DType::f32, -1.0, 1.0, 13);
  Tensor host_dst = Tensor::zeros({5, 8, 6});
  Tensor device_dst = to_device(host_dst);
  // Write a broadcast row into a strided window of a bigger tensor.
  Tensor host_window = host_dst.slice(1, 2, 7).permute({1, 0, 2});
  Tensor device_window = device_dst.slice(1, 2, 7).permute({1, 0, 2});
  host_window.copy_(row);
  device_window.copy_(to_device(row));
  check_bit_exact(to_host(device_dst), host_dst);
  // Broadcast straight from the host into a device window.
  device_window.copy_(row.reshape({6}));
  check_bit_exact(to_host(device_dst), host_dst);
  // Fill a strided window, every dtype.
  for (DType dtype : {DType::f32, DType::f64, DType::bf16, DType::f16, DType::i32, DType::i64, DType::u8}) {
    Tensor h = Tensor::zeros({4, 9}, dtype);
    Tensor d = to_device(h);
    Tensor hv = h.slice(1, 1, 8).transpose(0, 1);
    Tensor dv = d.slice(1, 1, 8).transpose(0, 1);
    hv.fill_(3.3);
    dv.fill_(3.3);
    check_bit_exact(to_host(d), h);
  }
}

BOOST_AUTO_TEST_CASE(unary_forward_matches_cpu) {
  for (DType dtype : {DType::f32, DType::f64}) {
    for (UnaryOp op : kUnaryOps) {
      double lo = needs_positive(op) ? 0.1 : -4.0;
      Tensor x = random_tensor({4, 5, 33}, dtype, lo, 4.0, 14);
      Tensor dx = to_device(x);
      for (bool strided : {false, true}) {
        Tensor hx = strided ? x.permute({2, 0, 1}).slice(0, 3, 30) : x;
        Tensor gx = strided ? dx.permute({2, 0, 1}).slice(0, 3, 30) : dx;
        Tensor got = kernels::unary(op, gx, 1.7);
        BOOST_CHECK(got.device() == kGpu);
        check_close(to_host(got), kernels::unary(op, hx, 1.7), tolerance(dtype),
                    fmt::format("unary op {} {} strided={}", int(op), dtype_name(dtype), strided));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(unary_backward_matches_cpu) {
  for (DType dtype : {DType::f32, DType::f64}) {
    for (UnaryOp op : kUnaryOps) {
      double lo = needs_positive(op) ? 0.1 : -4.0;
      Tensor x = random_tensor({6, 40}, dtype, lo, 4.0, 15);
      Tensor y = kernels::unary(op, x, 1.7);
      Tensor g_rows = random_tensor({40, 6}, dtype, -2.0, 2.0, 16);
      Tensor g = g_rows.transpose(0, 1);  // a strided gradient on both sides
      Tensor got = kernels::unary_backward(op, to_device(x), to_device(y), to_device(g_rows).transpose(0, 1), 1.7);
      BOOST_CHECK(got.device() == kGpu);
      check_close(to_host(got), kernels::unary_backward(op, x, y, g, 1.7), tolerance(dtype),
                  fmt::format("unary backward {} {}", int(op), dtype_name(dtype)));
    }
    // Undefined inputs the formula does not read.
    Tensor x = random_tensor({3, 10}, dtype, -1.0, 1.0, 17);
    Tensor y = kernels::unary(UnaryOp::exp, x);
    Tensor g = random_tensor({3, 10}, dtype, -1.0, 1.0, 18);
    check_close(to_host(kernels::unary_backward(UnaryOp::exp, Tensor(), to_device(y), to_device(g))),
                kernels::unary_backward(UnaryOp::exp, Tensor(), y, g), tolerance(dtype), "exp backward without x");
  }
}

BOOST_AUTO_TEST_CASE(binary_broadcasting_matches_cpu) {
  for (DType dtype : {DType::f32, DType::f64}) {
    for (BinaryOp op : {BinaryOp::add, BinaryOp::sub, BinaryOp::mul, BinaryOp::div}) {
      Tensor a = random_tensor({4, 1, 6}, dtype, 0.5, 2.0, 19);
      Tensor b = random_tensor({5, 1}, dtype, 0.5, 2.0, 20);
      check_close(to_host(kernels::binary(op, to_device(a), to_device(b))), kernels::binary(op, a, b),
                  tolerance(dtype), fmt::format("binary {} broadcast {}", int(op), dtype_name(dtype)));
      // A transposed operand against a row that broadcasts over it.
      Tensor m = random_tensor({7, 9}, dtype, 0.5, 2.0, 21);
      Tensor r = random_tensor({7}, dtype, 0.5, 2.0, 22);
      check_close(to_host(kernels::binary(op, to_device(m).transpose(0, 1), to_device(r))),
                  kernels::binary(op, m.transpose(0, 1), r), tolerance(dtype),
                  fmt::format("binary {} strided {}", int(op), dtype_name(dtype)));
    }
  }
}

BOOST_AUTO_TEST_CASE(sum_last_dim_matches_cpu) {
  for (DType dtype : {DType::f32, DType::f64}) {
    Tensor x = random_tensor({3, 7, 1000}, dtype, -1.0, 1.0, 23);
    Tensor dx = to_device(x);
    for (bool keepdim : {false, true}) {
      check_close(to_host(kernels::cuda::sum_last_dim(dx, keepdim)), kernels::sum(x, {-1}, keepdim),
                  tolerance(dtype), "sum over a contiguous last dim");
    }
    // Last dim strided (a permuted view) and short rows.
    check_close(to_host(kernels::cuda::sum_last_dim(dx.permute({2, 0, 1}))), kernels::sum(x.permute({2, 0, 1}), {-1}, false),
                tolerance(dtype), "sum over a strided last dim");
    Tensor one = to_device(random_tensor({5}, dtype, -1.0, 1.0, 24));
    check_close(to_host(kernels::cuda::sum_last_dim(one)), kernels::sum(to_host(one), {-1}, false),
                tolerance(dtype), "sum of a vector");
  }
}

BOOST_AUTO_TEST_CASE(matmul_f32_f64_matches_cpu) {
  for (DType dtype : {DType::f32, DType::f64}) {
    for (bool ta : {false, true}) {
      for (bool tb : {false, true}) {
        Shape as = ta ? Shape{3, 33, 17} : Shape{3, 17, 33};
        Shape bs = tb ? Shape{3, 9, 33} : Shape{3, 33, 9};
        Tensor a = random_tensor(as, dtype, -1.0, 1.0, 25);
        Tensor b = random_tensor(bs, dtype, -1.0, 1.0, 26);
        Tensor got = kernels::matmul(to_device(a), to_device(b), ta, tb);
        BOOST_CHECK(got.device() == kGpu);
        check_close(to_host(got), kernels::matmul(a, b, ta, tb), tolerance(dtype),
                    fmt::format("matmul {} ta={} tb={}", dtype_name(dtype), ta, tb));
      }
    }
    // A 2-D weight broadcast over batches; batch dims that broadcast against each other.
    Tensor x = random_tensor({2, 3, 5, 16}, dtype, -1.0, 1.0, 27);
    Tensor w = random_tensor({16, 12}, dtype, -1.0, 1.0, 28);
    check_close(to_host(kernels::matmul(to_device(x), to_device(w))), kernels::matmul(x, w), tolerance(dtype),
                "matmul with a broadcast weight");
    Tensor p = random_tensor({2, 1, 5, 16}, dtype, -1.0, 1.0, 29);
    Tensor q = random_tensor({3, 16, 4}, dtype, -1.0, 1.0, 30);
    check_close(to_host(kernels::matmul(to_device(p), to_device(q))), kernels::matmul(p, q), tolerance(dtype),
                "matmul with broadcasting batch dims");
    // Batch dims without one uniform stride (permuted) and a transposed view as input.
    Tensor r = random_tensor({3, 2, 5, 16}, dtype, -1.0, 1.0, 31);
    Tensor dr = to_device(r).permute({1, 0, 2, 3});
    check_close(to_host(kernels::matmul(dr, to_device(x).transpose(-1, -2))),
                kernels::matmul(r.permute({1, 0, 2, 3}), x.transpose(-1, -2)), tolerance(dtype),
                "matmul of permuted batches");
    // k == 0 gives zeros.
    Tensor e1 = Tensor::zeros({4, 0}, dtype), e2 = Tensor::zeros({0, 3}, dtype);
    check_close(to_host(kernels::matmul(to_device(e1), to_device(e2))), Tensor::zeros({4, 3}, dtype), 0.0,
                "matmul with k == 0");
  }
}

BOOST_AUTO_TEST_CASE(matmul_half_inputs_accumulate_in_f32) {
  for (DType dtype : {DType::bf16, DType::f16}) {
    for (bool tb : {false, true}) {
      Tensor a32 = random_tensor({4, 31, 256}, DType::f32, -1.0, 1.0, 32);
      Tensor b32 = random_tensor(tb ? Shape{4, 24, 256} : Shape{4, 256, 24}, DType::f32, -1.0, 1.0, 33);
      Tensor a = kernels::cast(a32, dtype), b = kernels::cast(b32, dtype);
      Tensor got = kernels::matmul(to_device(a), to_device(b), false, tb);
      // f32 out, as kernels::matmul promises: the same rounded inputs multiplied in
      // f32 on the CPU, to f32's tolerance.
      BOOST_CHECK(got.dtype() == DType::f32);
      Tensor want = kernels::matmul(kernels::cast(a, DType::f32), kernels::cast(b, DType::f32), false, tb);
      check_close(to_host(got), want, tolerance(DType::f32), fmt::format("{} matmul tb={}", dtype_name(dtype), tb));
    }
  }
}

BOOST_AUTO_TEST_CASE(matmul_of_views_off_alignment) {
  // Views starting one element into their block, with odd batch strides: cuBLASLt
  // must be told they are less aligned than its default 256 bytes.
  for (DType dtype : {DType::f32, DType::f64, DType::bf16}) {
    Tensor a = random_tensor({3, 7, 18}, dtype, -1.0, 1.0, 34);
    Tensor b = random_tensor({3, 17, 5}, dtype, -1.0, 1.0, 35);
    Tensor da = to_device(a).slice(2, 1, 18), db = to_device(b);
    Tensor want = kernels::matmul(kernels::upcast_half(a.slice(2, 1, 18)), kernels::upcast_half(b));
    for (int repeat = 0; repeat < 2; ++repeat)  // the second call runs the cached plan
      check_close(to_host(kernels::matmul(da, db)), want, tolerance(want.dtype()),
                  fmt::format("matmul of an offset view {} call {}", dtype_name(dtype), repeat));
  }
}

BOOST_AUTO_TEST_CASE(linear_adds_the_bias_in_the_gemm) {
  for (DType dtype : {DType::f32, DType::f64, DType::bf16, DType::f16}) {
    Tensor x = random_tensor({2, 9, 40}, dtype, -1.0, 1.0, 36);
    Tensor w = random_tensor({24, 40}, dtype, -1.0, 1.0, 37);
    Tensor bias = random_tensor({24}, dtype == DType::f64 ? DType::f64 : DType::f32, -1.0, 1.0, 38);
    Tensor got = kernels::linear(to_device(x), to_device(w), to_device(bias));
    BOOST_CHECK(got.dtype() == (dtype == DType::f64 ? DType::f64 : DType::f32));
    BOOST_CHECK(got.shape() == Shape({2, 9, 24}));
    check_close(to_host(got), kernels::linear(x, w, bias), tolerance(got.dtype()),
                fmt::format("linear {}", dtype_name(dtype)));
    // An offset bias view and an input of zero features (the product is the bias alone).
    Tensor long_bias = random_tensor({25}, bias.dtype(), -1.0, 1.0, 39);
    check_close(to_host(kernels::linear(to_device(x), to_device(w), to_device(long_bias).slice(0, 1, 25))),
                kernels::linear(x, w, long_bias.slice(0, 1, 25)), tolerance(got.dtype()),
                fmt::format("linear with an offset bias {}", dtype_name(dtype)));
    Tensor x0 = Tensor::zeros({3, 0}, dtype), w0 = Tensor::zeros({24, 0}, dtype);
    check_close(to_host(kernels::linear(to_device(x0), to_device(w0), to_device(bias))),
                kernels::linear(x0, w0, bias), 0.0, fmt::format("linear of no features {}", dtype_name(dtype)));
  }
}

BOOST_AUTO_TEST_CASE(conv2d_matches_cpu) {
  for (DType dtype : {DType::f32, DType::f64, DType::bf16, DType::f16}) {
    Tensor x = random_tensor({3, 5, 9, 11}, dtype, -1.0, 1.0, 40);
    Tensor w = random_tensor({6, 5, 3, 3}, dtype, -1.0, 1.0, 41);
    Tensor gy = random_tensor({3, 6, 9, 11}, DType::f32, -1.0, 1.0, 42);
    const DType out = dtype == DType::f64 ? DType::f64 : DType::f32;
    const std::string what = fmt::format("conv2d {}", dtype_name(dtype));
    Tensor y = kernels::conv2d(to_device(x), to_device(w), 1);
    BOOST_CHECK(y.dtype() == out);
    check_close(to_host(y), kernels::conv2d(x, w, 1), tolerance(out), what);
    // A strided (permuted) input and no padding.
    Tensor xp = to_device(x.permute({0, 1, 3, 2})).permute({0, 1, 3, 2});
    check_close(to_host(kernels::conv2d(xp, to_device(w), 0)), kernels::conv2d(x, w, 0), tolerance(out),
                what + " strided, unpadded");
    // The backward, grad_y rounded to bf16 for bf16 pairs on both sides.
    Tensor gx, gw, want_gx, want_gw;
    kernels::conv2d_backward(to_device(x), to_device(w), to_device(kernels::cast(gy, out)), 1, &gx, &gw);
    kernels::conv2d_backward(x, w, kernels::cast(gy, out), 1, &want_gx, &want_gw);
    check_close(to_host(gx), want_gx, tolerance(out), what + " grad_x");
    check_close(to_host(gw), want_gw, tolerance(out), what + " grad_weight");
    // One gradient alone.
    Tensor only_gw;
    kernels::conv2d_backward(to_device(x), to_device(w), to_device(kernels::cast(gy, out)), 1, nullptr, &only_gw);
    check_close(to_host(only_gw), want_gw, tolerance(out), what + " grad_weight alone");
  }
}

BOOST_AUTO_TEST_CASE(attention_matches_cpu_past_one_block) {
  // T = 300 rows are longer than a block's 256 threads.
  for (DType dtype : {DType::f32, DType::f64}) {
    const Shape shape{2, 3, 300, 16};
    Tensor q = random_tensor(shape, dtype, -1.0, 1.0, 43), k = random_tensor(shape, dtype, -1.0, 1.0, 44);
    Tensor v = random_tensor(shape, dtype, -1.0, 1.0, 45), g = random_tensor(shape, dtype, -1.0, 1.0, 46);
    const std::string what = fmt::format("attention {}", dtype_name(dtype));
    Tensor lse, want_lse;
    Tensor out = kernels::causal_attention(to_device(q), to_device(k), to_device(v), 0.25, &lse);
    Tensor want = kernels::causal_attention(q, k, v, 0.25, &want_lse);
    check_close(to_host(out), want, tolerance(dtype), what);
    check_close(to_host(lse), want_lse, tolerance(dtype), what + " logsumexp");
    Tensor gq, gk, gv, want_gq, want_gk, want_gv;
    kernels::causal_attention_backward(to_device(q), to_device(k), to_device(v), out, lse, to_device(g), 0.25, &gq,
                                       &gk, &gv);
    kernels::causal_attention_backward(q, k, v, want, want_lse, g, 0.25, &want_gq, &want_gk, &want_gv);
    check_close(to_host(gq), want_gq, tolerance(dtype), what + " grad_q");
    check_close(to_host(gk), want_gk, tolerance(dtype), what + " grad_k");
    check_close(to_host(gv), want_gv, tolerance(dtype), what + " grad_v");
    // Three new tokens after 290 cached ones, in a cache of 300 positions.
    Tensor q3 = random_tensor({2, 3, 3, 16}, dtype, -1.0, 1.0, 47);
    check_close(to_host(kernels::cached_attention(to_device(q3), to_device(k), to_device(v), 290, 0.25)),
                kernels::cached_attention(q3, k, v, 290, 0.25), tolerance(dtype), what + " cached");
  }
}

BOOST_AUTO_TEST_CASE(errors_name_the_problem) {
  Tensor host = Tensor::ones({2, 2});
  Tensor device = to_device(host);
  BOOST_CHECK_THROW(kernels::matmul(device, host), ft::Error);
  BOOST_CHECK_THROW(kernels::binary(BinaryOp::add, device, host), ft::Error);
  BOOST_CHECK_THROW(Tensor::empty({2}, DType::f32, Device::cuda(1 << 20)), ft::Error);
  // Nine dims that no merge can reduce exceed the indexer's eight.
  Tensor nine = to_device(Tensor::zeros({2, 3, 2, 3, 2, 3, 2, 3, 2}));
  BOOST_CHECK_THROW(kernels::unary(UnaryOp::neg, nine.permute({8, 7, 6, 5, 4, 3, 2, 1, 0})), ft::Error);
}

BOOST_AUTO_TEST_CASE(add_inplace_and_scale_shift_match_cpu) {
  for (DType dtype : {DType::f32, DType::f64}) {
    Tensor base = random_tensor({6, 10}, dtype, -1.0, 1.0, 40);
    Tensor row = random_tensor({1, 4}, DType::f64, -1.0, 1.0, 41);  // another dtype, broadcast over rows
    Tensor host = kernels::copy(base);
    Tensor device = to_device(base);
    Tensor host_window = host.slice(1, 3, 7);
    Tensor device_window = device.slice(1, 3, 7);
    kernels::add_inplace(host_window, row, 0.75);
    kernels::add_inplace(device_window, to_device(row), 0.75);
    check_close(to_host(device), host, tolerance(dtype), fmt::format("add_inplace into a window {}", dtype_name(dtype)));
    Tensor shifted = kernels::scale_shift(to_device(base).transpose(0, 1), -1.5, 0.25);
    BOOST_CHECK(shifted.device() == kGpu);
    check_close(to_host(shifted), kernels::scale_shift(base.transpose(0, 1), -1.5, 0.25), tolerance(dtype),
                fmt::format("scale_shift of a transposed view {}", dtype_name(dtype)));
  }
}

// Values on a coarse grid, so most rows hold ties, along dims longer than a warp,
// with NaNs (two adjacent: the first must win). Indices and values are the CPU's.
BOOST_AUTO_TEST_CASE(max_keeps_the_cpu_rule_for_ties_and_nan) {
  const Shape shape{37, 70, 5};
  std::mt19937 gen(42);
  std::uniform_int_distribution<int> grid(-3, 3);
  std::vector<double> values(size_t(numel_of(shape)));
  for (double& v : values) v = double(grid(gen));
  for (size_t at : {100u, 101u, 2000u, 9000u}) values[at] = std::numeric_limits<double>::quiet_NaN();
  values[7] = -0.0;
  for (DType dtype : {DType::f32, DType::f64}) {
    Tensor x = kernels::cast(Tensor::from_vector(values, shape), dtype);
    Tensor dx = to_device(x);
    for (int64_t dim : {0, 1, 2}) {
      for (bool keepdim : {false, true}) {
        Tensor host_indices, device_indices;
        Tensor want = kernels::max(x, dim, keepdim, &host_indices);
        Tensor got = kernels::max(dx, dim, keepdim, &device_indices);
        BOOST_CHECK(got.device() == kGpu && device_indices.device() == kGpu);
        check_bit_exact(to_host(got), want);
        check_bit_exact(to_host(device_indices), host_indices);
      }
    }
    // A permuted view, and values without indices.
    Tensor host_indices, device_indices;
    Tensor want = kernels::max(x.permute({2, 0, 1}), 2, false, &host_indices);
    check_bit_exact(to_host(kernels::max(dx.permute({2, 0, 1}), 2, false, &device_indices)), want);
    check_bit_exact(to_host(device_indices), host_indices);
    check_bit_exact(to_host(kernels::max(dx, 1, false, nullptr)), kernels::max(x, 1, false, nullptr));
  }
}

// Rows longer than a block, many rows (several row chunks in the parameter
// gradients) and a transposed input; the backward repeats to the bit.
BOOST_AUTO_TEST_CASE(layer_norm_matches_cpu_and_repeats) {
  for (DType dtype : {DType::f32, DType::f64}) {
    for (Shape shape : {Shape{300, 700}, Shape{10000, 5}, Shape{3, 1}}) {
      const int64_t rows = shape[0], d = shape[1];
      Tensor stored = random_tensor({d, rows}, dtype, -2.0, 3.0, 43);
      Tensor x = stored.transpose(0, 1);  // [rows, d], not contiguous
      Tensor dx = to_device(stored).transpose(0, 1);
      Tensor w = random_tensor({d}, dtype, 0.5, 1.5, 44), b = random_tensor({d}, dtype, -0.5, 0.5, 45);
      Tensor gy = random_tensor({rows, d}, dtype, -1.0, 1.0, 46);
      const std::string what = fmt::format("layer_norm {} {}", shape_str(shape), dtype_name(dtype));
      for (bool affine : {true, false}) {
        const Tensor hw = affine ? w : Tensor(), hb = affine ? b : Tensor();
        const Tensor dw = affine ? to_device(w) : Tensor(), db = affine ? to_device(b) : Tensor();
        Tensor mean, rstd, dmean, drstd;
        Tensor y = kernels::layer_norm(x, hw, hb, 1e-5, &mean, &rstd);
        // The hand kernels themselves (f32 in training runs on cuDNN: cudnn_graphs_gpu_test).
        Tensor dy = kernels::cuda::layer_norm(dx, dw, db, 1e-5, &dmean, &drstd);
        BOOST_CHECK(dy.device() == kGpu && dmean.device() == kGpu && drstd.device() == kGpu);
        check_close(to_host(dy), y, tolerance(dtype), what + " y");
        check_close(to_host(dmean), mean, tolerance(dtype), what + " mean");
        check_close(to_host(drstd), rstd, tolerance(dtype), what + " rstd");
        Tensor gx, gw, gb, dgx, dgw, dgb;
        kernels::layer_norm_backward(gy, x, hw, mean, rstd, &gx, &gw, &gb);
        kernels::cuda::layer_norm_backward(to_device(gy), dx, dw, dmean, drstd, &dgx, &dgw, &dgb);
        check_close(to_host(dgx), gx, tolerance(dtype), what + " grad_x");
        check_close(to_host(dgw), gw, tolerance(dtype), what + " grad_weight");
        check_close(to_host(dgb), gb, tolerance(dtype), what + " grad_bias");
        Tensor again_w, again_b;
        kernels::cuda::layer_norm_backward(to_device(gy), dx, dw, dmean, drstd, nullptr, &again_w, &again_b);
        check_bit_exact(to_host(again_w), to_host(dgw));
        check_bit_exact(to_host(again_b), to_host(dgb));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(softmax_matches_cpu) {
  for (DType dtype : {DType::f32, DType::f64}) {
    for (Shape shape : {Shape{40, 1000}, Shape{7, 3}}) {
      Tensor stored = random_tensor({shape[1], shape[0]}, dtype, -5.0, 5.0, 47);
      Tensor x = stored.transpose(0, 1);
      Tensor dx = to_device(stored).transpose(0, 1);
      const std::string what = fmt::format("softmax {} {}", shape_str(shape), dtype_name(dtype));
      Tensor y = kernels::softmax(x);
      Tensor dy = kernels::softmax(dx);
      BOOST_CHECK(dy.device() == kGpu);
      check_close(to_host(dy), y, tolerance(dtype), what);
      Tensor g = random_tensor(shape, dtype, -1.0, 1.0, 48);
      check_close(to_host(kernels::softmax_backward(dy, to_device(g))), kernels::softmax_backward(y, g),
                  tolerance(dtype), what + " backward");
    }
    // Masked entries (-inf) get probability zero.
    std::vector<double> masked = {0.5, -INFINITY, 1.0, -INFINITY, -INFINITY, 2.0};
    Tensor m = kernels::cast(Tensor::from_vector(masked, {2, 3}), dtype);
    check_close(to_host(kernels::softmax(to_device(m))), kernels::softmax(m), tolerance(dtype),
                "softmax with -inf entries");
  }
}

// The fused layer equals the unfused ops on the device bit for bit (the same exp
// kernel), and the CPU within rounding; planes large enough for several chunks
// per channel in the backward, a non-contiguous x, and gradients that repeat.
BOOST_AUTO_TEST_CASE(channel_affine_matches_unfused_ops_and_cpu) {
  for (DType dtype : {DType::f32, DType::f64}) {
    for (bool wide : {true, false}) {
      Tensor stored = wide ? random_tensor({4, 64, 3, 64}, dtype, -2.0, 2.0, 49)
                           : random_tensor({5, 3}, dtype, -2.0, 2.0, 49);
      Tensor x = wide ? stored.permute({0, 2, 1, 3}) : stored;  // [N, 3, ...]
      Tensor dx = wide ? to_device(stored).permute({0, 2, 1, 3}) : to_device(stored);
      Tensor shift = random_tensor({3}, dtype, -1.0, 1.0, 50);
      Tensor log_scale = random_tensor({1, 3, 1, 1}, dtype, -1.0, 1.0, 51);
      const std::string what = fmt::format("channel_affine {} {}", shape_str(x.shape()), dtype_name(dtype));
      Tensor dshift = to_device(shift), dls = to_device(log_scale);
      Tensor dy = kernels::channel_affine(dx, dshift, dls);
      BOOST_CHECK(dy.device() == kGpu);
      Shape per_channel(size_t(x.dim()), 1);
      per_channel[1] = 3;
      Tensor unfused = kernels::binary(BinaryOp::mul, kernels::binary(BinaryOp::add, dx, dshift.reshape(per_channel)),
                                       kernels::unary(UnaryOp::exp, dls.reshape(per_channel)));
      check_bit_exact(to_host(dy), to_host(unfused));
      check_close(to_host(dy), kernels::channel_affine(x, shift, log_scale), tolerance(dtype), what);

      // Both backends on the same y, so only the gradient kernels differ.
      Tensor y = to_host(dy);
      Tensor gy = random_tensor(x.shape(), dtype, -1.0, 1.0, 52);
      Tensor gx, gb, gs, dgx, dgb, dgs;
      kernels::channel_affine_backward(gy, y, log_scale, &gx, &gb, &gs);
      kernels::channel_affine_backward(to_device(gy), dy, dls, &dgx, &dgb, &dgs);
      check_close(to_host(dgx), gx, tolerance(dtype), what + " grad_x");
      check_close(to_host(dgb), gb, tolerance(dtype), what + " grad_shift");
      check_close(to_host(dgs), gs, tolerance(dtype), what + " grad_log_scale");
      Tensor again_x, again_b, again_s;
      kernels::channel_affine_backward(to_device(gy), dy, dls, &again_x, &again_b, &again_s);
      check_bit_exact(to_host(again_x), to_host(dgx));
      check_bit_exact(to_host(again_b), to_host(dgb));
      check_bit_exact(to_host(again_s), to_host(dgs));
    }
  }
}

BOOST_AUTO_TEST_CASE(index_select_matches_cpu_for_every_dtype) {
  Tensor index64 = Tensor::from_vector<int64_t>({4, 0, 0, 3, 2, 4}, {6});
  Tensor index32 = Tensor::from_vector<int32_t>({1, 4, 1}, {3});
  // Every other entry of a [4, 2] matrix: a strided index (a view of device memory).
  Tensor pairs = Tensor::from_vector<int64_t>({2, 9, 0, 9, 3, 9, 2, 9}, {4, 2});
  Tensor strided_index = pairs.select(1, 0);
  Tensor device_strided_index = to_device(pairs).select(1, 0);
  for (DType dtype : {DType::f32, DType::f64, DType::bf16, DType::f16, DType::i32, DType::i64, DType::u8}) {
    Tensor x = random_tensor({5, 6, 7}, dtype, 0.0, 200.0, 53);
    Tensor dx = to_device(x);
    for (int64_t dim : {0, 1, 2}) {
      Tensor got = kernels::index_select(dx, dim, to_device(index64));
      BOOST_CHECK(got.device() == kGpu);
      check_bit_exact(to_host(got), kernels::index_select(x, dim, index64));
      check_bit_exact(to_host(kernels::index_select(dx, dim, to_device(index32))),
                      kernels::index_select(x, dim, index32));
    }
    check_bit_exact(to_host(kernels::index_select(dx.permute({2, 0, 1}), 1, device_strided_index)),
                    kernels::index_select(x.permute({2, 0, 1}), 1, strided_index));
    Tensor none = Tensor::from_vector<int64_t>({}, {0});
    BOOST_CHECK((kernels::index_select(dx, 1, to_device(none)).shape() == Shape{5, 0, 7}));
  }
}

// Many repeated indices; each output slice sums its sources in index order from
// zero, as the CPU does, so the sums agree to the bit.
BOOST_AUTO_TEST_CASE(index_add_is_bit_identical_to_cpu) {
  std::mt19937 gen(54);
  std::uniform_int_distribution<int64_t> pick(0, 6);
  std::vector<int64_t> picks(2000);
  for (int64_t& v : picks) v = pick(gen);
  std::vector<int32_t> picks32(picks.begin(), picks.end());
  Tensor index64 = Tensor::from_vector(picks, {2000});
  Tensor index32 = Tensor::from_vector(picks32, {2000});
  for (DType dtype : {DType::f32, DType::f64}) {
    Tensor src = random_tensor({3, 2000, 5}, dtype, -1.0, 1.0, 55);
    Tensor stored = random_tensor({5, 2000, 3}, dtype, -1.0, 1.0, 56);
    for (const Tensor& index : {index64, index32}) {
      Tensor got = kernels::index_add({3, 7, 5}, 1, to_device(index), to_device(src));
      BOOST_CHECK(got.device() == kGpu);
      check_bit_exact(to_host(got), kernels::index_add({3, 7, 5}, 1, index, src));
      Tensor rows = src.select(0, 1);  // [2000, 5], a dim-0 scatter
      check_bit_exact(to_host(kernels::index_add({7, 5}, 0, to_device(index), to_device(rows))),
                      kernels::index_add({7, 5}, 0, index, rows));
      check_bit_exact(to_host(kernels::index_add({3, 7, 5}, 1, to_device(index), to_device(stored).permute({2, 1, 0}))),
                      kernels::index_add({3, 7, 5}, 1, index, stored.permute({2, 1, 0})));
    }
    Tensor none = Tensor::from_vector<int64_t>({}, {0});
    check_bit_exact(to_host(kernels::index_add({3, 7, 5}, 1, to_device(none), to_device(Tensor::zeros({3, 0, 5}, dtype)))),
                    Tensor::zeros({3, 7, 5}, dtype));
  }
}

BOOST_AUTO_TEST_CASE(bad_indices_are_errors_naming_the_first) {
  Tensor x = random_tensor({4, 3}, DType::f32, -1.0, 1.0, 57);
  Tensor dx = to_device(x);
  Tensor src = to_device(random_tensor({3, 3}, DType::f32, -1.0, 1.0, 58));
  auto names = [](const std::string& expected) {
    return [expected](const ft::Error& e) { return std::string(e.what()).find(expected) != std::string::npos; };
  };
  for (int64_t bad : {int64_t(-1), int64_t(4), int64_t(1) << 40}) {
    Tensor index = to_device(Tensor::from_vector<int64_t>({0, bad, 2}, {3}));
    const std::string expected = fmt::format("index {} out of range [0, 4)", bad);
    BOOST_CHECK_EXCEPTION(kernels::index_select(dx, 0, index), ft::Error, names(expected));
    BOOST_CHECK_EXCEPTION(kernels::index_add({4, 3}, 0, index, src), ft::Error, names(expected));
  }
  Tensor two_bad = to_device(Tensor::from_vector<int32_t>({1, 7, -3}, {3}));
  BOOST_CHECK_EXCEPTION(kernels::index_select(dx, 0, two_bad), ft::Error, names("index 7 out of range [0, 4)"));
  // The device stays usable: nothing was read out of bounds.
  Tensor good = Tensor::from_vector<int64_t>({3, 1}, {2});
  check_bit_exact(to_host(kernels::index_select(dx, 0, to_device(good))), kernels::index_select(x, 0, good));
  // An index on another device than the data.
  BOOST_CHECK_THROW(kernels::index_select(dx, 0, good), ft::Error);
}

// On the host in f64 (linalg_cuda.cpp): the CPU's answers, back on the device in
// the CPU's result dtype.
BOOST_AUTO_TEST_CASE(linalg_equals_cpu_and_returns_to_the_device) {
  const int64_t n = 6;
  std::mt19937 gen(59);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  std::vector<double> full(size_t(n * n)), lower(size_t(n * n), 0.0), rhs(size_t(n * 2));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      full[size_t(i * n + j)] = dist(gen) + (i == j ? 3.0 : 0.0);
      if (j <= i) lower[size_t(i * n + j)] = full[size_t(i * n + j)];
    }
  for (double& v : rhs) v = dist(gen);
  for (DType dtype : {DType::f32, DType::f64, DType::bf16, DType::f16}) {
    Tensor a = kernels::cast(Tensor::from_vector(full, {n, n}), dtype);
    Tensor l = kernels::cast(Tensor::from_vector(lower, {n, n}), dtype);
    Tensor b = kernels::cast(Tensor::from_vector(rhs, {n, 2}), dtype);
    Tensor da = to_device(a).transpose(0, 1);  // a strided device input
    Tensor at = a.transpose(0, 1);
    Tensor inverse = kernels::inverse(da);
    BOOST_CHECK(inverse.device() == kGpu);
    check_bit_exact(to_host(inverse), kernels::inverse(at));
    check_bit_exact(to_host(kernels::triangular_solve(to_device(l), to_device(b), true, false)),
                    kernels::triangular_solve(l, b, true, false));
    check_bit_exact(to_host(kernels::qr_orthogonal(da)), kernels::qr_orthogonal(at));
    kernels::LUFactors got = kernels::lu_decompose(da), want = kernels::lu_decompose(at);
    check_bit_exact(to_host(got.p), want.p);
    check_bit_exact(to_host(got.l), want.l);
    check_bit_exact(to_host(got.u), want.u);
    double sign = 0.0, logabsdet = 0.0, want_sign = 0.0, want_logabsdet = 0.0;
    kernels::slogdet(da, &sign, &logabsdet);
    kernels::slogdet(at, &want_sign, &want_logabsdet);
    BOOST_CHECK_EQUAL(sign, want_sign);
    BOOST_CHECK_EQUAL(logabsdet, want_logabsdet);
  }
}

BOOST_AUTO_TEST_CASE(empty_inputs_give_empty_outputs_on_the_device) {
  Tensor rows0 = to_device(Tensor::zeros({0, 6}));
  Tensor mean, rstd, gx, gw, gb;
  Tensor y = kernels::layer_norm(rows0, Tensor(), Tensor(), 1e-5, &mean, &rstd);
  BOOST_CHECK((y.shape() == Shape{0, 6} && mean.shape() == Shape{0} && y.device() == kGpu));
  kernels::layer_norm_backward(rows0, rows0, Tensor(), mean, rstd, &gx, &gw, &gb);
  check_bit_exact(to_host(gw), Tensor::zeros({6}));
  check_bit_exact(to_host(gb), Tensor::zeros({6}));
  BOOST_CHECK((kernels::softmax(rows0).shape() == Shape{0, 6}));
  Tensor indices;
  BOOST_CHECK((kernels::max(rows0, 1, false, &indices).shape() == Shape{0} && indices.shape() == Shape{0}));
  Tensor no_batch = to_device(Tensor::zeros({0, 3, 4}));
  Tensor ls = to_device(Tensor::zeros({3}));
  BOOST_CHECK((kernels::channel_affine(no_batch, ls, ls).shape() == Shape{0, 3, 4}));
  Tensor cgx, cgb, cgs;
  kernels::channel_affine_backward(no_batch, no_batch, ls, &cgx, &cgb, &cgs);
  check_bit_exact(to_host(cgb), Tensor::zeros({3}));
  check_bit_exact(to_host(cgs), Tensor::zeros({3}));
}

BOOST_AUTO_TEST_CASE(allocator_reuses_freed_blocks) {
  CachingCudaAllocator& allocator = cuda_allocator(0);
  { Tensor warm = Tensor::empty({1 << 16}, DType::f32, kGpu); }
  AllocatorStats before = allocator.stats();
  { Tensor again = Tensor::empty({1 << 16}, DType::f32, kGpu); }
  AllocatorStats after = allocator.stats();
  BOOST_CHECK_EQUAL(after.system_allocations, before.system_allocations);
  BOOST_CHECK_EQUAL(after.bytes_in_use, before.bytes_in_use);
  allocator.release_cached();
  BOOST_CHECK_EQUAL(allocator.stats().bytes_cached, 0u);
}

BOOST_AUTO_TEST_SUITE_END()

#endif  // FLOWTRAIN_HAVE_CUDA
