// Optimizers, clipping and the schedule against PyTorch: tests/golden/make_optim_golden.py
// runs torch.optim.{Adam,AdamW,Adamax} for 25 steps with fixed gradients and a LambdaLR
// warmup+cosine learning rate, clip_grad_norm_ on a few gradient sets and LambdaLR on a
// few schedules. Parameters, state and clipped gradients are compared in the tests' one
// metric (tests/support/tensor_compare.h), the error relative to the vector's scale:
//   max |actual - expected| / max |expected|  <=  1e-6.
// On a CPU with FMA the C++ reproduces torch's AVX2 kernels bit for bit (errors 0); the
// tolerance is for torch builds whose kernels round differently (no AVX2, no fusion).
#include <boost/test/unit_test.hpp>
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "framework/kernels/kernels.h"
#include "framework/optim/clipping.h"
#include "framework/optim/optimizer.h"
#include "framework/optim/schedule.h"
#include "tests/support/golden_file.h"
#include "tests/support/tensor_compare.h"

using namespace ft;

namespace {

constexpr double kRelativeTolerance = 1e-6;

const testing::GoldenFile& golden() {
  static const testing::GoldenFile file("optim.h5", "golden_optim");
  return file;
}

template <class T>
std::vector<T> read(const std::string& name) {
  const std::vector<double> values = golden().doubles(name);
  return std::vector<T>(values.begin(), values.end());  // exact: f32 data widened and narrowed back
}

// The worst error relative to scale over a run's steps.
struct Errors {
  double worst = 0.0;
  void add(double error) { worst = std::max(worst, error); }
};

double error_of(const float* actual, const float* expected, size_t n) {
  const std::vector<double> a(actual, actual + n), e(expected, expected + n);
  return testing::compare(a, e).error;
}

struct OptimizerCase {
  optim::OptimizerConfig config;
  std::vector<float> params0, grads, params, states[2];
  std::vector<double> lr;
  std::string state_names[2];
  size_t n = 0, steps = 0;
};

OptimizerCase load_optimizer_case(const std::string& name) {
  const std::string group = "optim_" + name + "/";
  OptimizerCase c;
  std::vector<double> hyper = read<double>(group + "hyper");
  BOOST_REQUIRE_EQUAL(hyper.size(), 5u);
  static const char* const kinds[] = {"adam", "adamw", "adamax"};
  c.config.name = kinds[int(hyper[0])];
  c.config.beta1 = hyper[1];
  c.config.beta2 = hyper[2];
  c.config.eps = hyper[3];
  c.config.weight_decay = hyper[4];
  c.params0 = read<float>(group + "params0");
  c.grads = read<float>(group + "grads");
  c.params = read<float>(group + "params");
  c.lr = read<double>(group + "lr");
  c.n = c.params0.size();
  c.steps = c.lr.size();
  c.state_names[0] = "exp_avg";
  c.state_names[1] = c.config.name == "adamax" ? "exp_inf" : "exp_avg_sq";
  for (int k = 0; k < 2; ++k) c.states[k] = read<float>(group + c.state_names[k]);
  BOOST_REQUIRE_EQUAL(c.grads.size(), c.steps * c.n);
  return c;
}

// Steps [first, last) of a case, comparing parameters and state after each one.
Errors run_steps(const OptimizerCase& c, optim::Optimizer& opt, std::vector<float>& params, size_t first,
                 size_t last, Errors& state_errors) {
  Errors param_errors;
  for (size_t s = first; s < last; ++s) {
    const Device device = opt.state()[0].second->device();
    const int64_t n = int64_t(c.n);
    Tensor p = Tensor::from_vector(params, {n}).to(device);
    Tensor g = Tensor::from_vector(std::vector<float>(c.grads.begin() + long(s * c.n), c.grads.begin() + long((s + 1) * c.n)),
                                   {n}).to(device);
    opt.step(p, g, c.lr[s]);
    params = p.to_vector<float>();
    BOOST_REQUIRE_EQUAL(opt.step_count(), int64_t(s + 1));
    param_errors.add(error_of(params.data(), c.params.data() + s * c.n, c.n));
    auto state = opt.state();
    BOOST_REQUIRE_EQUAL(state.size(), 2u);
    for (size_t k = 0; k < 2; ++k) {
      BOOST_REQUIRE_EQUAL(state[k].first, c.state_names[k]);
      state_errors.add(error_of(state[k].second->to_vector<float>().data(), c.states[k].data() + s * c.n, c.n));
    }
  }
  return param_errors;
}

const char* const kOptimizerCases[] = {"adam_default", "adam_wd",        "adamw_default",  "adamw_wd",
                                       "adamw_strong_wd", "adamax_default", "adamax_wd", "adamax_glow"};

}  // namespace

BOOST_AUTO_TEST_SUITE(optim_parity)

// On cpu and on cpu:1, whose kernels must land every update on the state's device.
BOOST_AUTO_TEST_CASE(optimizers_match_torch_for_25_steps) {
  for (const char* name : kOptimizerCases) {
    for (Device device : {Device::cpu(), Device::cpu(1)}) {
      BOOST_TEST_CONTEXT("case " << name << " on " << device.str()) {
        OptimizerCase c = load_optimizer_case(name);
        auto opt = optim::make_optimizer(c.config, int64_t(c.n), device);
        std::vector<float> params = c.params0;
        Errors state_errors;
        Errors param_errors = run_steps(c, *opt, params, 0, c.steps, state_errors);
        BOOST_TEST_MESSAGE(name << ": error x scale: params " << param_errors.worst << ", state " << state_errors.worst);
        BOOST_TEST(param_errors.worst <= kRelativeTolerance);
        BOOST_TEST(state_errors.worst <= kRelativeTolerance);
      }
    }
  }
}

// A checkpoint restore mid-run (state tensors and step count into a fresh optimizer)
// continues the torch trajectory.
BOOST_AUTO_TEST_CASE(restored_optimizer_continues_torch_trajectory) {
  for (const char* name : {"adamw_wd", "adamax_wd"}) {
    BOOST_TEST_CONTEXT("case " << name) {
      OptimizerCase c = load_optimizer_case(name);
      const size_t half = c.steps / 2;
      auto first = optim::make_optimizer(c.config, int64_t(c.n));
      std::vector<float> params = c.params0;
      Errors state_errors;
      run_steps(c, *first, params, 0, half, state_errors);
      auto second = optim::make_optimizer(c.config, int64_t(c.n));
      second->set_step_count(first->step_count());
      auto from = first->state();
      auto to = second->state();
      for (size_t k = 0; k < from.size(); ++k) to[k].second->copy_(*from[k].second);
      Errors param_errors = run_steps(c, *second, params, half, c.steps, state_errors);
      BOOST_TEST(param_errors.worst <= kRelativeTolerance);
      BOOST_TEST(state_errors.worst <= kRelativeTolerance);
    }
  }
}

BOOST_AUTO_TEST_CASE(clip_grad_norm_matches_torch) {
  for (const char* name : {"clipped", "unclipped", "tiny_max", "small_grads"}) {
    BOOST_TEST_CONTEXT("case " << name) {
      const std::string group = std::string("clip_") + name + "/";
      std::vector<float> grads = read<float>(group + "grads");
      std::vector<double> norm = read<double>(group + "norm");
      std::vector<float> clipped = read<float>(group + "clipped");
      Tensor g = Tensor::from_vector(grads, {int64_t(grads.size())});
      const double total = std::sqrt(kernels::squared_norm(g));
      BOOST_TEST(total == norm[1], boost::test_tools::tolerance(1e-6));
      kernels::scale_inplace(g, optim::clip_coefficient(total, norm[0]));
      const double error = error_of(g.to_vector<float>().data(), clipped.data(), grads.size());
      BOOST_TEST_MESSAGE("clip " << name << ": error x scale " << error);
      BOOST_TEST(error <= kRelativeTolerance);
    }
  }
}

BOOST_AUTO_TEST_CASE(schedule_matches_lambda_lr) {
  for (const char* name : {"warmup_cosine", "warmup_from_start_lr", "cosine_no_warmup", "constant_warmup", "constant"}) {
    BOOST_TEST_CONTEXT("case " << name) {
      const std::string group = std::string("schedule_") + name + "/";
      std::vector<double> c = read<double>(group + "config");
      std::vector<double> expected = read<double>(group + "lr");
      BOOST_REQUIRE_EQUAL(c.size(), 6u);
      optim::ScheduleConfig config{.lr = c[0], .min_lr = c[1], .warmup_start_lr = c[2],
                                   .warmup_steps = int64_t(c[3]), .total_steps = int64_t(c[4]),
                                   .kind = c[5] == 0 ? "cosine" : "constant"};
      for (size_t step = 0; step < expected.size(); ++step) {
        BOOST_TEST_CONTEXT("step " << step) {
          // LambdaLR returns base_lr * (rate / base_lr): a rounding or two from the rate itself.
          BOOST_TEST(optim::learning_rate(config, int64_t(step)) == expected[step], boost::test_tools::tolerance(1e-12));
        }
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
