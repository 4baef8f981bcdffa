// Framework micro-benchmarks: GEMM through the framework next to OpenBLAS called
// directly, TARFLOW's linear layers (x W^T) on OpenBLAS against oneDNN in f32 and
// bf16, element-wise and reduction bandwidth, and autograd overhead per op.
// Prints one JSON object per measurement. Measured, never asserted.
#include <cblas.h>
#include <fmt/core.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

#include "framework/autograd/grad_mode.h"
#include "framework/kernels/cpu/matmul_onednn.h"
#include "framework/kernels/kernels.h"
#include "framework/ops/ops.h"
#include "framework/random/generator.h"

using namespace ft;

namespace {

// Median seconds of `repeats` runs after one warm-up.
double time_median(int repeats, const std::function<void()>& fn) {
  fn();
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) {
    auto start = std::chrono::steady_clock::now();
    fn();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

void bench_gemm(int64_t m, int64_t k, int64_t n) {
  Generator gen(1, 0);
  Tensor a = normal({m, k}, 0, 1, gen), b = normal({k, n}, 0, 1, gen);
  Tensor c = Tensor::empty({m, n});
  NoGradGuard no_grad;
  int repeats = m * n * k > 100000000 ? 5 : 20;
  double t_framework = time_median(repeats, [&] { c = matmul(a, b); });
  double t_blas = time_median(repeats, [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(m), int(n), int(k), 1.0f, a.data<float>(), int(k),
                b.data<float>(), int(n), 0.0f, c.data<float>(), int(n));
  });
  double flops = 2.0 * double(m) * double(n) * double(k);
  fmt::print("{{\"bench\": \"gemm\", \"m\": {}, \"k\": {}, \"n\": {}, \"framework_gflops\": {:.2f}, "
             "\"openblas_gflops\": {:.2f}, \"ratio\": {:.3f}}}\n",
             m, k, n, flops / t_framework * 1e-9, flops / t_blas * 1e-9, t_blas / t_framework);
}

// y = x W^T, W [n, k] row-major as in nn::Linear: the products that decide which
// library serves f32 (kernels/cpu/matmul_cpu.cpp).
void bench_linear(int64_t m, int64_t k, int64_t n) {
  Generator gen(3, 0);
  Tensor x = normal({m, k}, 0, 1, gen), w = normal({n, k}, 0, 1, gen), y = Tensor::empty({m, n});
  Tensor x16 = kernels::cast(x, DType::bf16), w16 = kernels::cast(w, DType::bf16);
  int repeats = m * n * k > 100000000 ? 5 : 50;
  double t_blas = time_median(repeats, [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(m), int(n), int(k), 1.0f, x.data<float>(), int(k),
                w.data<float>(), int(k), 0.0f, y.data<float>(), int(n));
  });
  double t_dnnl = time_median(repeats, [&] { y = kernels::onednn_matmul(x, w, false, true); });
  double t_dnnl_bf16 = time_median(repeats, [&] { y = kernels::onednn_matmul(x16, w16, false, true); });
  double t_framework = time_median(repeats, [&] { y = kernels::matmul(x, w, false, true); });
  double gflop = 2.0 * double(m) * double(n) * double(k) * 1e-9;
  fmt::print("{{\"bench\": \"linear\", \"m\": {}, \"k\": {}, \"n\": {}, \"openblas_f32_gflops\": {:.1f}, "
             "\"onednn_f32_gflops\": {:.1f}, \"onednn_bf16_gflops\": {:.1f}, \"framework_f32_gflops\": {:.1f}}}\n",
             m, k, n, gflop / t_blas, gflop / t_dnnl, gflop / t_dnnl_bf16, gflop / t_framework);
}

// The backward products of y = x W^T: the data gradient g W ([m, n] by [n, k]) and
// the weight gradient g^T x ([n, m] by [m, k]), OpenBLAS against oneDNN in f32.
void bench_linear_gradients(int64_t m, int64_t k, int64_t n) {
  Generator gen(4, 0);
  Tensor x = normal({m, k}, 0, 1, gen), w = normal({n, k}, 0, 1, gen), g = normal({m, n}, 0, 1, gen);
  Tensor gx = Tensor::empty({m, k}), gw = Tensor::empty({n, k});
  int repeats = m * n * k > 100000000 ? 5 : 50;
  double gflop = 2.0 * double(m) * double(n) * double(k) * 1e-9;
  double blas_data = time_median(repeats, [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(m), int(k), int(n), 1.0f, g.data<float>(), int(n),
                w.data<float>(), int(k), 0.0f, gx.data<float>(), int(k));
  });
  double blas_weight = time_median(repeats, [&] {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, int(n), int(k), int(m), 1.0f, g.data<float>(), int(n),
                x.data<float>(), int(k), 0.0f, gw.data<float>(), int(k));
  });
  double dnnl_data = time_median(repeats, [&] { gx = kernels::onednn_matmul(g, w, false, false); });
  double dnnl_weight = time_median(repeats, [&] { gw = kernels::onednn_matmul(g, x, true, false); });
  fmt::print("{{\"bench\": \"linear_gradients\", \"m\": {}, \"k\": {}, \"n\": {}, "
             "\"openblas_data_gflops\": {:.1f}, \"onednn_data_gflops\": {:.1f}, "
             "\"openblas_weight_gflops\": {:.1f}, \"onednn_weight_gflops\": {:.1f}}}\n",
             m, k, n, gflop / blas_data, gflop / dnnl_data, gflop / blas_weight, gflop / dnnl_weight);
}

void bench_bandwidth(int64_t n) {
  Generator gen(2, 0);
  Tensor a = normal({n}, 0, 1, gen), b = normal({n}, 0, 1, gen);
  Tensor strided = normal({n / 1024, 1024}, 0, 1, gen).transpose(0, 1);
  NoGradGuard no_grad;
  double bytes = double(n) * 4.0;
  auto report = [&](const char* op, double seconds, double moved) {
    fmt::print("{{\"bench\": \"bandwidth\", \"op\": \"{}\", \"elements\": {}, \"gb_per_s\": {:.2f}, \"ms\": {:.3f}}}\n",
               op, n, moved / seconds * 1e-9, seconds * 1e3);
  };
  report("add", time_median(10, [&] { Tensor c = add(a, b); }), 3 * bytes);
  report("mul_scalar", time_median(10, [&] { Tensor c = mul(a, 1.5); }), 2 * bytes);
  report("exp", time_median(10, [&] { Tensor c = exp(a); }), 2 * bytes);
  report("gelu", time_median(10, [&] { Tensor c = gelu(a); }), 2 * bytes);
  report("gelu_backward", time_median(10, [&] { Tensor c = kernels::unary_backward(UnaryOp::gelu, a, Tensor(), b); }),
         3 * bytes);
  report("copy_transposed", time_median(10, [&] { Tensor c = strided.contiguous(); }), 2 * bytes);
  report("sum_all", time_median(10, [&] { Tensor s = sum(a); }), bytes);
  Tensor rows = a.reshape({n / 1024, 1024});
  report("sum_rows", time_median(10, [&] { Tensor s = sum(rows, {1}); }), bytes);
  report("sum_columns", time_median(10, [&] { Tensor s = sum(rows, {0}); }), bytes);
}

void bench_autograd_overhead(int chain) {
  Tensor x = Tensor::ones({16});
  x.set_requires_grad(true);
  double seconds = time_median(10, [&] {
    Tensor y = x;
    for (int i = 0; i < chain; ++i) y = add(y, 1.0);
    sum(y).backward();
  });
  fmt::print("{{\"bench\": \"autograd_overhead\", \"chain\": {}, \"us_per_op_forward_backward\": {:.3f}}}\n", chain,
             seconds / chain * 1e6);
  double forward_only = time_median(10, [&] {
    NoGradGuard no_grad;
    Tensor y = x;
    for (int i = 0; i < chain; ++i) y = add(y, 1.0);
  });
  fmt::print("{{\"bench\": \"op_dispatch\", \"chain\": {}, \"us_per_op_no_grad\": {:.3f}}}\n", chain,
             forward_only / chain * 1e6);
}

}  // namespace

int main() {
  fmt::print("{{\"bench\": \"setup\", \"omp_threads\": {}}}\n", omp_get_max_threads());
  for (int64_t s : {256, 512, 1024}) bench_gemm(s, s, s);
  bench_gemm(2048, 256, 768);  // tarflow-bench: tokens x width -> qkv
  bench_gemm(64, 4096, 64);
  // tarflow-bench's linears: one token per image while sampling (m 32), all tokens in training (m 2048).
  for (int64_t m : {32, 2048}) {
    bench_linear(m, 256, 768);
    bench_linear(m, 256, 1024);
    bench_linear(m, 1024, 256);
    bench_linear(m, 256, 256);
    bench_linear_gradients(m, 256, 768);
    bench_linear_gradients(m, 256, 1024);
    bench_linear_gradients(m, 1024, 256);
  }
  bench_bandwidth(int64_t(1) << 24);
  bench_autograd_overhead(1000);
  return 0;
}
