// The bucketed gradient reducer against gradients computed without it: every rank
// computes its local gradient on a reference copy of the model, the ranks
// all-gather those, and the average taken here must equal what the reducer left
// in its gradient arena.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cmath>
#include <cstring>
#include <span>
#include <string>
#include <thread>

#include "framework/dist/gradient_reducer.h"
#include "framework/kernels/kernels.h"
#include "framework/nn/mlp.h"
#include "framework/ops/ops.h"
#include "framework/random/generator.h"
#include "tests/mpi/mpi_testing.h"
#include "tests/support/tensor_compare.h"

using namespace ft;
using dist::GradientReducer;
using dist::ReducerOptions;
using ft::testing::RecordingCommunicator;
using ft::testing::world;

namespace {

// `unused` is registered first, so it sits at the start of the arena and in the
// last bucket: the buckets before it can still be launched during backward.
// `extra` is used only on even ranks (a parameter unused on some ranks).
struct Net : nn::Module {
  explicit Net(uint64_t seed) {
    Generator gen(seed, 0);
    unused = register_module("unused", std::make_shared<nn::Linear>(4, 5, true, gen));
    body = register_module("body", std::make_shared<nn::MLP>(8, 32, 8, gen));
    extra = register_module("extra", std::make_shared<nn::Linear>(8, 8, true, gen));
    head = register_module("head", std::make_shared<nn::Linear>(8, 3, true, gen));
  }
  Tensor loss(const Tensor& x, bool use_extra) const {
    Tensor h = body->forward(x);
    if (use_extra) h = h + tanh(extra->forward(h));
    return mean(square(head->forward(h)));
  }
  std::shared_ptr<nn::Linear> unused, extra, head;
  std::shared_ptr<nn::MLP> body;
};

bool uses_extra(int rank) { return rank % 2 == 0; }

Tensor batch(int rank, uint64_t step) {
  Generator gen(100 + step, uint64_t(rank));
  return normal({16, 8}, 0.0, 1.0, gen);
}

// This rank's gradient in parameter order (zeros where a parameter got none).
std::vector<float> flat_grad(const nn::Module& model) {
  std::vector<float> out;
  for (auto& [name, p] : model.named_parameters()) {
    Tensor g = p.grad();
    std::vector<float> v = g.defined() ? g.to_vector<float>() : std::vector<float>(size_t(p.numel()), 0.0f);
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

// The average over ranks of each rank's local gradient, via all_gather.
std::vector<double> average_over_ranks(const std::vector<float>& local) {
  auto comm = world();
  const auto n = int64_t(local.size());
  Tensor mine = Tensor::from_vector<float>(local, {n});
  Tensor all = Tensor::zeros({comm->size() * n});
  comm->all_gather(mine, all);
  auto v = all.to_double_vector();
  std::vector<double> avg(size_t(n), 0.0);
  for (int r = 0; r < comm->size(); ++r)
    for (int64_t i = 0; i < n; ++i) avg[size_t(i)] += v[size_t(r * n + i)];
  for (double& x : avg) x /= comm->size();
  return avg;
}

// Reference: a copy of the model (same values), local backward over the given steps.
std::vector<double> reference_average(const Net& model, const std::vector<uint64_t>& steps) {
  const int rank = world()->rank();
  Net ref(999);
  ref.load_state_dict(model.state_dict());
  for (uint64_t step : steps) ref.loss(batch(rank, step), uses_extra(rank)).backward();
  return average_over_ranks(flat_grad(ref));
}

// Elements [begin, begin + n) of the arena against want[want_begin, ...) in the
// tests' one metric (tests/support/tensor_compare.h), checked against kTolerance.
// Until that metric the rule was |got - want| <= 1e-6 max(1, |want|) per element;
// the worst error measured at 1 to 4 ranks is 1.3e-7 of the scale (f32 sums in
// another order).
constexpr double kTolerance = 1e-6;

double check_against(const std::string& what, const Tensor& arena, int64_t begin, const std::vector<double>& want,
                     int64_t want_begin, int64_t n) {
  const std::vector<double> got = arena.to_double_vector();
  const double error = ft::testing::check_close(what, std::span<const double>(got).subspan(size_t(begin), size_t(n)),
                                                std::span<const double>(want).subspan(size_t(want_begin), size_t(n)),
                                                kTolerance);
  BOOST_TEST_MESSAGE(what << ": error " << error << " x scale");
  return error;
}

// True when every rank holds the same bytes in t.
bool identical_on_all_ranks(const Tensor& t) {
  auto comm = world();
  Tensor all = Tensor::zeros({comm->size() * t.numel()});
  comm->all_gather(t.contiguous(), all);
  const auto* p = all.data<float>();
  for (int r = 1; r < comm->size(); ++r)
    if (std::memcmp(p, p + r * t.numel(), size_t(t.numel()) * sizeof(float)) != 0) return false;
  return true;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(gradient_reducer)

BOOST_AUTO_TEST_CASE(rebinding_keeps_values_and_forward) {
  Net model(5);
  Tensor x = batch(0, 0);
  const auto before = model.loss(x, true).to_double_vector();
  std::vector<std::vector<float>> values;
  for (auto& [name, p] : model.named_parameters()) values.push_back(p.to_vector<float>());

  GradientReducer reducer(model.parameter_slots(), world(), ReducerOptions{0.0002, false});
  BOOST_TEST(reducer.parameter_count() == model.parameter_count());
  BOOST_TEST(reducer.padded_size() == model.parameter_count());
  size_t k = 0;
  int64_t offset = 0;
  for (auto& [name, p] : model.named_parameters()) {
    BOOST_TEST(p.shares_storage(reducer.parameter_arena()), name);
    BOOST_TEST(p.offset() == offset, name);
    BOOST_TEST(p.requires_grad(), name);
    BOOST_TEST(p.grad().defined(), name);
    BOOST_TEST(p.grad().shares_storage(reducer.gradient_arena()), name);
    BOOST_TEST(p.grad().offset() == offset, name);
    BOOST_TEST(p.to_vector<float>() == values[k], name);
    BOOST_TEST(reducer.parameters()[k].name == name);
    offset += p.numel();
    ++k;
  }
  // The same function of the same values: bit-identical.
  BOOST_TEST(model.loss(x, true).to_double_vector() == before, boost::test_tools::per_element());

  // Buckets tile the arena backwards: bucket 0 ends at the end, the last starts at 0.
  BOOST_TEST(reducer.bucket_count() > 3);
  BOOST_TEST(reducer.bucket_range(0).second == reducer.padded_size());
  BOOST_TEST(reducer.bucket_range(reducer.bucket_count() - 1).first == 0);
  for (int b = 0; b + 1 < reducer.bucket_count(); ++b)
    BOOST_TEST(reducer.bucket_range(b).first == reducer.bucket_range(b + 1).second);
}

BOOST_AUTO_TEST_CASE(bucketed_and_unbucketed_equal_the_average_of_local_gradients) {
  auto comm = world();
  const int rank = comm->rank();
  std::vector<std::vector<double>> arenas;
  for (double megabytes : {0.0002, 0.0, 25.0}) {
    BOOST_TEST_CONTEXT("bucket_megabytes " << megabytes) {
      Net model(1000 + uint64_t(rank));  // different on every rank until the broadcast
      auto recorder = std::make_shared<RecordingCommunicator>(comm);
      GradientReducer reducer(model.parameter_slots(), recorder, ReducerOptions{megabytes, false});
      reducer.broadcast_parameters(0);
      BOOST_TEST(identical_on_all_ranks(reducer.parameter_arena()));
      Net rank0(1000);
      BOOST_TEST(reducer.parameter_arena().to_vector<float>() ==
                 [&] {
                   std::vector<float> v;
                   for (auto& [name, p] : rank0.named_parameters()) {
                     auto w = p.to_vector<float>();
                     v.insert(v.end(), w.begin(), w.end());
                   }
                   return v;
                 }());

      for (uint64_t step : {0u, 1u}) {  // the second step checks the state reset
        const auto want = reference_average(model, {step});
        reducer.zero_grad();
        recorder->calls.clear();
        model.loss(batch(rank, step), uses_extra(rank)).backward();
        const size_t during_backward = recorder->count("all_reduce_async");
        reducer.finish_gradient_reduction();
        BOOST_TEST(recorder->count("all_reduce_async") == size_t(reducer.bucket_count()));
        if (megabytes <= 0.0) {
          BOOST_TEST(reducer.bucket_count() == 1);
          BOOST_TEST(during_backward == 0u);
        } else if (uses_extra(rank)) {
          // Only the last bucket (with `unused`) waits for finish.
          BOOST_TEST(during_backward == size_t(reducer.bucket_count() - 1));
        }
        check_against("gradients", reducer.gradient_arena(), 0, want, 0, reducer.parameter_count());
        // The parameter no rank used has a zero gradient (and did not hang).
        auto unused = model.unused->weight.grad().to_double_vector();
        BOOST_TEST(std::all_of(unused.begin(), unused.end(), [](double g) { return g == 0.0; }));
        BOOST_TEST(identical_on_all_ranks(reducer.gradient_arena()));
      }
      arenas.push_back(reducer.gradient_arena().to_double_vector());
    }
  }
  for (size_t k = 1; k < arenas.size(); ++k) {
    const double error = ft::testing::check_close("bucketing " + std::to_string(k) + " against tiny buckets",
                                                  arenas[k], arenas[0], kTolerance);
    BOOST_TEST_MESSAGE("bucketing " << k << ": error " << error << " x scale");
  }
}

BOOST_AUTO_TEST_CASE(gradient_accumulation_without_sync) {
  auto comm = world();
  const int rank = comm->rank();
  Net model(77);
  auto recorder = std::make_shared<RecordingCommunicator>(comm);
  GradientReducer reducer(model.parameter_slots(), recorder, ReducerOptions{0.0002, false});
  const auto want = reference_average(model, {3, 4});
  reducer.zero_grad();
  reducer.set_grad_sync(false);
  model.loss(batch(rank, 3), uses_extra(rank)).backward();
  BOOST_TEST(recorder->calls.empty());
  reducer.set_grad_sync(true);
  model.loss(batch(rank, 4), uses_extra(rank)).backward();
  reducer.finish_gradient_reduction();
  BOOST_TEST(recorder->count("all_reduce_async") == size_t(reducer.bucket_count()));
  check_against("gradients", reducer.gradient_arena(), 0, want, 0, reducer.parameter_count());
}

// Rank 0 arrives late: the others block in the reduction for about as long as it
// slept, and that is what seconds_waiting() reports; no rank's waiting exceeds the
// wall time of its step.
BOOST_AUTO_TEST_CASE(waiting_time_is_the_time_blocked_on_a_late_rank) {
  auto comm = world();
  const int rank = comm->rank();
  constexpr double kLateSeconds = 0.3;
  Net model(79);
  GradientReducer reducer(model.parameter_slots(), comm, ReducerOptions{0.0002, false});
  reducer.zero_grad();
  reducer.reset_timers();
  comm->barrier();
  const auto start = std::chrono::steady_clock::now();
  if (rank == 0) std::this_thread::sleep_for(std::chrono::duration<double>(kLateSeconds));
  model.loss(batch(rank, 5), uses_extra(rank)).backward();
  reducer.finish_gradient_reduction();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double waiting = reducer.seconds_waiting();
  BOOST_TEST_MESSAGE("rank " << rank << ": waited " << waiting << " s of a " << wall << " s step");
  BOOST_TEST(waiting <= wall);
  // Half the delay: the waiting ranks ran their own backward meanwhile.
  if (rank != 0) BOOST_TEST(waiting >= kLateSeconds / 2);
  reducer.reset_timers();
  BOOST_TEST(reducer.seconds_waiting() == 0.0);
}

BOOST_AUTO_TEST_CASE(a_second_backward_into_launched_buckets_is_an_error) {
  auto comm = world();
  Net model(78);
  GradientReducer reducer(model.parameter_slots(), comm, ReducerOptions{0.0002, false});
  reducer.zero_grad();
  Tensor x = batch(0, 0);  // the same on every rank: every rank uses every parameter but `unused`
  model.loss(x, true).backward();
  // Bucket 0 is in flight on every rank; accumulating into it again must fail
  // loudly (the same way on every rank) instead of corrupting the reduction.
  BOOST_CHECK_THROW(model.loss(x, true).backward(), ft::Error);
}

BOOST_AUTO_TEST_CASE(zero1_reduce_scatter_and_gather) {
  auto comm = world();
  const int rank = comm->rank();
  const int size = comm->size();
  Net model(2000 + uint64_t(rank));
  auto recorder = std::make_shared<RecordingCommunicator>(comm);
  GradientReducer reducer(model.parameter_slots(), recorder, ReducerOptions{25.0, true});
  BOOST_TEST(reducer.padded_size() % size == 0);
  BOOST_TEST(reducer.padded_size() - reducer.parameter_count() < size);
  BOOST_TEST(reducer.shard_size() * size == reducer.padded_size());
  BOOST_TEST(reducer.shard_begin() == rank * reducer.shard_size());
  reducer.broadcast_parameters();
  BOOST_TEST(identical_on_all_ranks(reducer.parameter_arena()));

  auto want = reference_average(model, {5});
  want.resize(size_t(reducer.padded_size()), 0.0);  // the padding's gradient is zero
  const auto params_before = reducer.parameter_arena().to_vector<float>();
  reducer.zero_grad();
  recorder->calls.clear();
  model.loss(batch(rank, 5), uses_extra(rank)).backward();
  reducer.finish_gradient_reduction();
  BOOST_TEST(recorder->count("all_reduce_async") == 0u);
  BOOST_TEST(recorder->count("reduce_scatter") == 1u);
  Tensor shard = reducer.shard_gradients();
  BOOST_TEST(shard.numel() == reducer.shard_size());
  check_against("gradient shard", shard, 0, want, reducer.shard_begin(), reducer.shard_size());

  // A sharded SGD step, then the gather re-assembles every rank's shard.
  Tensor shard_params = reducer.shard_parameters();
  kernels::add_inplace(shard_params, shard, -0.1);
  reducer.gather_parameters();
  BOOST_TEST(identical_on_all_ranks(reducer.parameter_arena()));
  auto after = reducer.parameter_arena().to_vector<float>();
  std::vector<double> stepped(after.size());
  for (size_t i = 0; i < after.size(); ++i) stepped[i] = double(params_before[i]) - 0.1 * want[i];
  const double error = ft::testing::check_close("parameters after the sharded step",
                                                std::vector<double>(after.begin(), after.end()), stepped, kTolerance);
  BOOST_TEST_MESSAGE("parameters after the sharded step: error " << error << " x scale");
  // The module sees the gathered values (its parameters are arena views).
  BOOST_TEST(model.head->bias.to_vector<float>()[0] ==
             after[size_t(reducer.parameters().back().offset)]);
}

BOOST_AUTO_TEST_CASE(tied_parameters_share_one_place) {
  struct Tied : nn::Module {
    Tied() {
      a = Tensor::ones({3});
      b = a;  // the same tensor under two names
      register_parameter("a", &a);
      register_parameter("b", &b);
    }
    Tensor a, b;
  } model;
  GradientReducer reducer(model.parameter_slots(), world(), ReducerOptions{});
  BOOST_TEST(reducer.parameter_count() == 3);
  BOOST_TEST(model.a.same(model.b));
  reducer.zero_grad();
  (sum(model.a * 2.0) + sum(model.b * 3.0)).backward();
  reducer.finish_gradient_reduction();
  BOOST_TEST(reducer.gradient_arena().to_double_vector() == std::vector<double>(3, 5.0),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(hooks_outliving_the_reducer_do_nothing) {
  Net model(9);
  {
    GradientReducer reducer(model.parameter_slots(), world(), ReducerOptions{0.0002, false});
  }
  model.loss(batch(0, 0), true).backward();
  BOOST_TEST(model.head->weight.grad().defined());
}

BOOST_AUTO_TEST_SUITE_END()
