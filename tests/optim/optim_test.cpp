// Optimizer properties that need no reference: ZeRO-1 sharding gives the same bytes,
// configuration errors name their key, the schedule's landmarks, clipping, finiteness
// and the EMA.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "framework/core/check.h"
#include "framework/kernels/kernels.h"
#include "framework/optim/clipping.h"
#include "framework/optim/ema.h"
#include "framework/optim/optimizer.h"
#include "framework/optim/schedule.h"

using namespace ft;

namespace {

// Deterministic values of mixed sign and magnitude, no generator state to share.
std::vector<float> pattern(int64_t n, double salt) {
  std::vector<float> v(size_t(n), 0.0f);
  for (int64_t i = 0; i < n; ++i) v[size_t(i)] = float(std::sin(double(i) * 0.37 + salt) * std::exp(std::cos(double(i) * salt)));
  return v;
}

bool same_bytes(const float* a, const float* b, int64_t n) { return std::memcmp(a, b, size_t(n) * sizeof(float)) == 0; }

Tensor flat(const std::vector<float>& v) { return Tensor::from_vector(v, {int64_t(v.size())}); }

bool message_contains(const Error& e, const std::string& text) { return std::string(e.what()).find(text) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_SUITE(optimizer)

// ZeRO-1: each rank steps only its shard of the arena; the union must equal one
// optimizer stepping everything. Large enough that the OpenMP path runs.
BOOST_AUTO_TEST_CASE(two_shards_equal_one_optimizer_bit_for_bit) {
  const int64_t n = 100003, half = n / 2;
  for (const char* name : {"adamw", "adam", "adamax"}) {
    BOOST_TEST_CONTEXT("optimizer " << name) {
      optim::OptimizerConfig config{.name = name, .beta1 = 0.9, .beta2 = 0.99, .eps = 1e-8, .weight_decay = 0.01};
      auto whole = optim::make_optimizer(config, n);
      auto low = optim::make_optimizer(config, half);
      auto high = optim::make_optimizer(config, n - half);
      Tensor a = flat(pattern(n, 0.1)), b = a.clone();
      Tensor b_low = b.slice(0, 0, half), b_high = b.slice(0, half, n);
      for (int step = 0; step < 5; ++step) {
        Tensor grads = flat(pattern(n, 1.0 + step));
        const double lr = 1e-3 * (step + 1);
        whole->step(a, grads, lr);
        low->step(b_low, grads.slice(0, 0, half), lr);
        high->step(b_high, grads.slice(0, half, n), lr);
      }
      BOOST_TEST(same_bytes(a.data<float>(), b.data<float>(), n));
      auto whole_state = whole->state(), low_state = low->state(), high_state = high->state();
      for (size_t k = 0; k < whole_state.size(); ++k) {
        const float* w = whole_state[k].second->data<float>();
        BOOST_TEST(same_bytes(w, low_state[k].second->data<float>(), half));
        BOOST_TEST(same_bytes(w + half, high_state[k].second->data<float>(), n - half));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(state_names_sizes_and_step_count) {
  auto adamw = optim::make_optimizer({.name = "adamw"}, 7);
  BOOST_TEST(adamw->size() == 7);
  BOOST_TEST(adamw->state()[0].first == "exp_avg");
  BOOST_TEST(adamw->state()[1].first == "exp_avg_sq");
  BOOST_TEST(adamw->state()[1].second->numel() == 7);
  auto adamax = optim::make_optimizer({.name = "adamax"}, 3);
  BOOST_TEST(adamax->state()[1].first == "exp_inf");
  Tensor p = flat(std::vector<float>(3, 1.0f)), g = flat(std::vector<float>(3, 0.5f));
  adamax->step(p, g, 1e-3);
  adamax->step(p, g, 1e-3);
  BOOST_TEST(adamax->step_count() == 2);
  adamax->set_step_count(40);
  BOOST_TEST(adamax->step_count() == 40);
  BOOST_CHECK_THROW(adamax->set_step_count(-1), Error);
  // An empty shard (more ranks than elements) is legal and steps nothing.
  auto empty = optim::make_optimizer({.name = "adam"}, 0);
  Tensor none = Tensor::zeros({0});
  empty->step(none, none, 1e-3);
  BOOST_TEST(empty->step_count() == 1);
}

// The state is made on the optimizer's device, and a range elsewhere is refused by
// name rather than read through the wrong pointer.
BOOST_AUTO_TEST_CASE(state_lives_on_the_device_and_other_devices_are_refused) {
  auto adam = optim::make_optimizer({.name = "adam"}, 4, Device::cpu(1));
  for (auto& [name, tensor] : adam->state()) BOOST_TEST(tensor->device().str() == "cpu:1");
  Tensor p = Tensor::zeros({4}, DType::f32, Device::cpu(1)), g = Tensor::zeros({4});
  BOOST_CHECK_EXCEPTION(adam->step(p, g, 1e-3), Error, [](const Error& e) {
    return message_contains(e, "optimizer_update") && message_contains(e, "cpu:1") && message_contains(e, "cpu");
  });
  Tensor short_range = Tensor::zeros({3}, DType::f32, Device::cpu(1));
  BOOST_CHECK_EXCEPTION(adam->step(short_range, short_range, 1e-3), Error,
                        [](const Error& e) { return message_contains(e, "4 elements") && message_contains(e, "3"); });
}

BOOST_AUTO_TEST_CASE(bad_configs_name_their_key) {
  BOOST_CHECK_EXCEPTION(optim::make_optimizer({.name = "sgd"}, 4), Error,
                        [](const Error& e) { return message_contains(e, "optim.name") && message_contains(e, "sgd"); });
  BOOST_CHECK_EXCEPTION(optim::make_optimizer({.name = "adam", .beta1 = 1.0}, 4), Error,
                        [](const Error& e) { return message_contains(e, "optim.betas"); });
  BOOST_CHECK_EXCEPTION(optim::make_optimizer({.name = "adam", .weight_decay = -1.0}, 4), Error,
                        [](const Error& e) { return message_contains(e, "optim.weight_decay"); });
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(schedule)

BOOST_AUTO_TEST_CASE(warmup_endpoints_cosine_midpoint_and_end) {
  optim::ScheduleConfig c{.lr = 1e-3, .min_lr = 1e-5, .warmup_start_lr = 1e-6, .warmup_steps = 100, .total_steps = 1100};
  BOOST_TEST(optim::learning_rate(c, 0) == 1e-6);
  BOOST_TEST(optim::learning_rate(c, 50) == (1e-6 + 1e-3) / 2, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(optim::learning_rate(c, 100) == 1e-3);
  BOOST_TEST(optim::learning_rate(c, 600) == (1e-3 + 1e-5) / 2, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(optim::learning_rate(c, 1100) == 1e-5, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(optim::learning_rate(c, 5000) == 1e-5, boost::test_tools::tolerance(1e-12));
  // Monotone after the warmup.
  for (int64_t s = 100; s < 1100; ++s) BOOST_TEST_REQUIRE(optim::learning_rate(c, s + 1) <= optim::learning_rate(c, s));
}

BOOST_AUTO_TEST_CASE(constant_and_degenerate_schedules) {
  optim::ScheduleConfig constant{.lr = 3e-4, .total_steps = 10, .kind = "constant"};
  for (int64_t s : {0, 5, 10, 1000}) BOOST_TEST(optim::learning_rate(constant, s) == 3e-4);
  constant.warmup_steps = 4;
  BOOST_TEST(optim::learning_rate(constant, 0) == 0.0);
  BOOST_TEST(optim::learning_rate(constant, 2) == 1.5e-4, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(optim::learning_rate(constant, 4) == 3e-4);
  // A total no longer than the warmup is over once the warmup is.
  optim::ScheduleConfig short_run{.lr = 1.0, .min_lr = 0.25, .warmup_steps = 10, .total_steps = 5};
  BOOST_TEST(optim::learning_rate(short_run, 10) == 0.25);
  BOOST_CHECK_EXCEPTION(optim::learning_rate({.kind = "step"}, 0), Error,
                        [](const Error& e) { return message_contains(e, "optim.schedule"); });
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(clipping)

BOOST_AUTO_TEST_CASE(norm_coefficient_and_scaling) {
  Tensor v = flat({3.0f, -4.0f, 0.0f});
  BOOST_TEST(kernels::squared_norm(v) == 25.0);
  BOOST_TEST(optim::clip_coefficient(5.0, 0.0) == 1.0);
  BOOST_TEST(optim::clip_coefficient(5.0, -1.0) == 1.0);
  BOOST_TEST(optim::clip_coefficient(5.0, 10.0) == 1.0);
  BOOST_TEST(optim::clip_coefficient(5.0, 1.0) == 1.0 / (5.0 + 1e-6));
  kernels::scale_inplace(v, 0.5);
  BOOST_TEST(v.data<float>()[0] == 1.5f);
  BOOST_TEST(v.data<float>()[1] == -2.0f);
}

// Fixed blocks summed in order: the same bits with any number of threads, which is
// what lets every rank agree on whether to clip.
BOOST_AUTO_TEST_CASE(squared_norm_of_a_large_range_is_accurate) {
  const int64_t n = 200001;
  std::vector<float> v = pattern(n, 0.3);
  long double exact = 0.0L;
  for (float x : v) exact += (long double)x * x;
  BOOST_TEST(kernels::squared_norm(flat(v)) == double(exact), boost::test_tools::tolerance(1e-13));
}

// The trainer finds overflowed gradients by the squared norm alone: non-finite exactly
// when an element is, and finite for the largest finite floats.
BOOST_AUTO_TEST_CASE(squared_norm_is_non_finite_exactly_when_an_element_is) {
  const int64_t n = 70000;  // above the parallel threshold
  std::vector<float> v = pattern(n, 0.7);
  BOOST_TEST(std::isfinite(kernels::squared_norm(flat(v))));
  BOOST_TEST(kernels::squared_norm(Tensor::zeros({0})) == 0.0);
  for (float bad : {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                    std::numeric_limits<float>::quiet_NaN()}) {
    for (int64_t where : {int64_t{0}, n / 2, n - 1}) {
      std::vector<float> w = v;
      w[size_t(where)] = bad;
      BOOST_TEST(!std::isfinite(kernels::squared_norm(flat(w))), "value " << bad << " at " << where);
    }
  }
  std::vector<float> largest(size_t(n), std::numeric_limits<float>::max());
  BOOST_TEST(std::isfinite(kernels::squared_norm(flat(largest))));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(ema)

BOOST_AUTO_TEST_CASE(first_update_copies_then_averages) {
  optim::Ema ema(3, 0.9);
  BOOST_TEST(!ema.initialized());
  BOOST_TEST(ema.decay() == 0.9);
  std::vector<float> p = {1.0f, -2.0f, 4.0f};
  ema.update(flat(p));
  BOOST_TEST(ema.initialized());
  BOOST_TEST(same_bytes(ema.shadow().data<float>(), p.data(), 3));
  ema.update(flat({2.0f, 0.0f, -6.0f}));
  const float* s = ema.shadow().data<float>();
  BOOST_TEST(s[0] == float(0.9 * 1.0 + 0.1 * 2.0));
  BOOST_TEST(s[1] == float(0.9 * -2.0));
  BOOST_TEST(s[2] == float(0.9 * 4.0 + 0.1 * -6.0));
}

BOOST_AUTO_TEST_CASE(converges_to_a_constant_and_restores) {
  const int64_t n = 40000;
  optim::Ema ema(n, 0.5);
  Tensor zeros = Tensor::zeros({n}), ones = flat(std::vector<float>(size_t(n), 1.0f));
  ema.update(zeros);
  for (int k = 0; k < 30; ++k) ema.update(ones);
  BOOST_TEST(ema.shadow().data<float>()[n - 1] == float(1.0 - std::pow(0.5, 30)));
  // Restored from a checkpoint: the shadow is loaded and the flag set, so no copy happens.
  optim::Ema restored(n, 0.5);
  restored.shadow().copy_(ema.shadow());
  restored.set_initialized(true);
  restored.update(zeros);
  BOOST_TEST(restored.shadow().data<float>()[0] == float(0.5 * (1.0 - std::pow(0.5, 30))));
  BOOST_CHECK_THROW(optim::Ema(4, 1.5), Error);
}

BOOST_AUTO_TEST_SUITE_END()
