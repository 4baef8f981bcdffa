// The optimizer on the GPU against the CPU, from the same state: five steps of Adam,
// AdamW and Adamax over a range past one grid (bit for bit: the CUDA file is built
// with -fmad=false), the EMA and in-place scaling (bit for bit), and the squared norm
// (the CPU's blocks, summed as a tree inside each: within 1e-12, and repeatable).
// Compiled only with CUDA; main.cpp skips without a device.
#include <boost/test/unit_test.hpp>

#if defined(FLOWTRAIN_HAVE_CUDA)

#include <cmath>
#include <cstring>
#include <vector>

#include "framework/kernels/kernels.h"
#include "framework/optim/ema.h"
#include "framework/optim/optimizer.h"

namespace {

using namespace ft;

const Device kGpu = Device::cuda(0);
constexpr int64_t kElements = (int64_t{1} << 24) + 12345;  // past 65536 blocks of 256 threads

Tensor pattern(int64_t n, double salt) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[size_t(i)] = float(std::sin(double(i) * 0.37 + salt) * std::exp(std::cos(double(i) * salt)));
  return Tensor::from_vector(v, {n});
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  Tensor x = a.to(Device::cpu()), y = b.to(Device::cpu());
  return x.numel() == y.numel() && std::memcmp(x.raw_data(), y.raw_data(), x.nbytes()) == 0;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(optimizer_gpu)

BOOST_AUTO_TEST_CASE(updates_equal_the_cpu_bit_for_bit) {
  for (const char* name : {"adam", "adamw", "adamax"}) {
    BOOST_TEST_CONTEXT("optimizer " << name) {
      optim::OptimizerConfig config{.name = name, .beta1 = 0.9, .beta2 = 0.99, .eps = 1e-8, .weight_decay = 0.01};
      auto cpu = optim::make_optimizer(config, kElements);
      auto gpu = optim::make_optimizer(config, kElements, kGpu);
      Tensor p_cpu = pattern(kElements, 0.1), p_gpu = p_cpu.to(kGpu);
      for (int step = 0; step < 5; ++step) {
        Tensor grads = pattern(kElements, 1.0 + step);
        Tensor grads_gpu = grads.to(kGpu);
        cpu->step(p_cpu, grads, 1e-3 * (step + 1));
        gpu->step(p_gpu, grads_gpu, 1e-3 * (step + 1));
      }
      BOOST_TEST(same_bytes(p_gpu, p_cpu));
      for (size_t k = 0; k < 2; ++k) BOOST_TEST(same_bytes(*gpu->state()[k].second, *cpu->state()[k].second));
      BOOST_TEST((gpu->state()[0].second->device() == kGpu));
    }
  }
}

BOOST_AUTO_TEST_CASE(ema_and_scaling_equal_the_cpu_bit_for_bit) {
  optim::Ema cpu(kElements, 0.999), gpu(kElements, 0.999, kGpu);
  for (int step = 0; step < 3; ++step) {
    Tensor params = pattern(kElements, 0.5 + step);
    cpu.update(params);
    gpu.update(params.to(kGpu));
  }
  BOOST_TEST(same_bytes(gpu.shadow(), cpu.shadow()));
  Tensor x = pattern(kElements, 2.0), y = x.to(kGpu);
  kernels::scale_inplace(x, 1.0 / 65536.0 * 3.0);
  kernels::scale_inplace(y, 1.0 / 65536.0 * 3.0);
  BOOST_TEST(same_bytes(y, x));
}

BOOST_AUTO_TEST_CASE(squared_norm_matches_the_cpu_and_repeats) {
  Tensor x = pattern(kElements, 0.3), y = x.to(kGpu);
  const double cpu = kernels::squared_norm(x), gpu = kernels::squared_norm(y);
  BOOST_TEST(std::abs(gpu - cpu) <= 1e-12 * cpu);
  BOOST_TEST(kernels::squared_norm(y) == gpu);
  Tensor bad = y.slice(0, kElements - 1, kElements);
  bad.fill_(INFINITY);
  BOOST_TEST(!std::isfinite(kernels::squared_norm(y)));
  BOOST_TEST(kernels::squared_norm(Tensor::zeros({0}, DType::f32, kGpu)) == 0.0);
}

BOOST_AUTO_TEST_SUITE_END()

#endif  // FLOWTRAIN_HAVE_CUDA
