// The CUDA backend against the CPU kernels on the same inputs: copies and fills
// (bit-exact), element-wise ops through the kernels.h entry points (which forward
// device tensors to the CUDA backend), last-dim sums, cuBLASLt GEMMs and linear,
// cuDNN convolutions and plain attention, with contiguous, strided and
// broadcasting operands. Compiled only with CUDA; in a
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
