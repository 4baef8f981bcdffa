// Synchronised batch norm: R ranks, each with its slice of one global batch, give
// the outputs, log-determinants, running statistics and gradients that one process
// gives on the whole batch (what makes batch-norm flows train alike at any world size).
#include <boost/test/unit_test.hpp>

#include "framework/ops/ops.h"
#include "framework/random/generator.h"
#include "layers/flows/batch_norm.h"
#include "tests/mpi/mpi_testing.h"
#include "tests/support/tensor_compare.h"

using namespace ft;
using ft::testing::world;

namespace {

struct Outcome {
  Tensor z, logabsdet, input_grad, weight_grad, running_var;
};

// Batch norm over x [N, 3, 2, 2] with a loss that weighs each output differently.
Outcome run(const Tensor& x, const Tensor& loss_weights, bool synchronised) {
  layers::flows::BatchNormTransform norm(3);
  norm.to_dtype(DType::f64);
  if (synchronised) {
    auto comm = world();
    norm.set_statistics_averager([comm](Tensor& t) { comm->all_reduce(t, dist::ReduceOp::average); }, comm->size());
  }
  Tensor input = x.detach().clone();
  input.set_requires_grad(true);
  layers::flows::TransformResult r = norm.forward(input, Tensor());
  // Each rank's loss sums over its slice, so the ranks' losses add up to the one-process
  // loss, and so do their parameter gradients.
  Tensor loss = add(sum(mul(r.y, loss_weights)), sum(r.logabsdet));
  loss.backward();
  Tensor weight_grad = norm.raw_weight.grad().clone();
  if (synchronised) world()->all_reduce(weight_grad, dist::ReduceOp::sum);
  return {r.y.detach(), r.logabsdet.detach(), input.grad(), weight_grad, norm.running_var.clone()};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sync_batch_norm)

BOOST_AUTO_TEST_CASE(ranks_with_slices_of_a_batch_match_one_process_on_all_of_it) {
  const int64_t ranks = world()->size(), rank = world()->rank(), local = 3, global = local * ranks;
  Generator gen(11, 3);
  Tensor x = add(mul(normal({global, 3, 2, 2}, 0.0, 1.0, gen, DType::f64), 2.0), 0.5);
  Tensor weights = normal({global, 3, 2, 2}, 0.0, 1.0, gen, DType::f64);
  Outcome whole = run(x, weights, false);
  Outcome mine = run(x.slice(0, rank * local, (rank + 1) * local), weights.slice(0, rank * local, (rank + 1) * local),
                     true);
  testing::check_close("z", mine.z, whole.z.slice(0, rank * local, (rank + 1) * local), 1e-12);
  testing::check_close("logabsdet", mine.logabsdet, whole.logabsdet.slice(0, rank * local, (rank + 1) * local), 1e-12);
  testing::check_close("dL/dx", mine.input_grad, whole.input_grad.slice(0, rank * local, (rank + 1) * local), 1e-10);
  testing::check_close("dL/dweight", mine.weight_grad, whole.weight_grad, 1e-10);
  testing::check_close("running variance", mine.running_var, whole.running_var, 1e-12);
}

BOOST_AUTO_TEST_SUITE_END()
