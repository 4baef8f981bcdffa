// Every collective of the MPI communicator against values computed locally: each
// rank contributes values that depend on its rank, so a missing or misplaced
// contribution shows.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdlib>
#include <string>

#include "framework/kernels/kernels.h"
#include "framework/ops/ops.h"
#include "framework/random/generator.h"
#include "tests/mpi/mpi_testing.h"

using namespace ft;
using dist::ReduceOp;
using ft::testing::world;

namespace {

// Exactly representable (multiples of 1/2, small), so f32 sums are exact in any order.
double value(int rank, int64_t i) { return double((i + rank) % 5) * (rank + 1) - 2.0 * rank + 0.5 * double(i % 3); }

template <class T>
Tensor rank_tensor(int rank, int64_t n) {
  std::vector<T> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[size_t(i)] = T(value(rank, i));
  return Tensor::from_vector<T>(v, {n});
}

template <class T>
std::vector<double> expected(ReduceOp op, int size, int64_t n) {
  std::vector<double> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    double acc = value(0, i);
    for (int r = 1; r < size; ++r) {
      const double v = value(r, i);
      if (op == ReduceOp::sum || op == ReduceOp::average) acc += v;
      if (op == ReduceOp::max) acc = std::max(acc, v);
      if (op == ReduceOp::min) acc = std::min(acc, v);
    }
    if (op == ReduceOp::average) acc = double(T(acc)) / size;
    out[size_t(i)] = acc;
  }
  return out;
}

template <class T>
void check_all_reduce(ReduceOp op) {
  auto comm = world();
  const int64_t n = 1001;
  Tensor t = rank_tensor<T>(comm->rank(), n);
  comm->all_reduce(t, op);
  auto want = expected<T>(op, comm->size(), n);
  auto got = t.to_double_vector();
  int64_t bad = 0;
  for (int64_t i = 0; i < n; ++i) {
    // sum/max/min are exact here; average may round once in T.
    const double tolerance = op == ReduceOp::average ? 1e-6 * std::max(1.0, std::abs(want[size_t(i)])) : 0.0;
    bad += std::abs(got[size_t(i)] - want[size_t(i)]) > tolerance;
  }
  BOOST_TEST(bad == 0, dtype_name(dtype_of<T>()) << " " << dist::reduce_op_name(op) << ": " << bad << " wrong");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(collectives)

BOOST_AUTO_TEST_CASE(world_layout) {
  auto comm = world();
  auto& mpi = dist::MpiWorld::instance();
  BOOST_TEST(comm->rank() == mpi.rank());
  BOOST_TEST(comm->size() == mpi.size());
  BOOST_TEST(comm->rank() < comm->size());
  // Every rank reports a different rank: gathered in rank order they are exactly 0..R-1.
  Tensor mine = Tensor::from_vector<double>({double(comm->rank())}, {1});
  Tensor gathered = Tensor::zeros({comm->size()}, DType::f64);
  comm->all_gather(mine, gathered);
  std::vector<double> ranks = gathered.to_double_vector(), expected;
  for (int r = 0; r < comm->size(); ++r) expected.push_back(double(r));
  BOOST_TEST(ranks == expected, boost::test_tools::per_element());
  BOOST_TEST(comm->local_rank() < comm->local_size());
  BOOST_TEST(comm->local_size() <= comm->size());
  // mpirun tells every rank the world size; MPI's answer must agree.
  if (const char* n = std::getenv("OMPI_COMM_WORLD_SIZE")) BOOST_TEST(comm->size() == std::atoi(n));
  // One machine: every rank is local.
  BOOST_TEST(comm->local_size() == comm->size());
  BOOST_TEST(comm->local_rank() == comm->rank());
}

BOOST_AUTO_TEST_CASE(all_reduce_floating) {
  for (ReduceOp op : {ReduceOp::sum, ReduceOp::average, ReduceOp::max, ReduceOp::min}) {
    check_all_reduce<float>(op);
    check_all_reduce<double>(op);
  }
}

BOOST_AUTO_TEST_CASE(all_reduce_int64_beyond_double_precision) {
  auto comm = world();
  const int64_t n = 64;
  std::vector<int64_t> v(n);
  // Above 2^53: a detour through double would lose the low bits.
  for (int64_t i = 0; i < n; ++i) v[size_t(i)] = (int64_t(1) << 55) + i * (comm->rank() + 1) - comm->rank();
  for (ReduceOp op : {ReduceOp::sum, ReduceOp::max, ReduceOp::min}) {
    Tensor t = Tensor::from_vector<int64_t>(v, {n});
    comm->all_reduce(t, op);
    auto got = t.to_vector<int64_t>();
    int64_t bad = 0;
    for (int64_t i = 0; i < n; ++i) {
      int64_t want = op == ReduceOp::sum ? 0 : (int64_t(1) << 55) + i;  // rank 0's value to start
      for (int r = 0; r < comm->size(); ++r) {
        const int64_t x = (int64_t(1) << 55) + i * (r + 1) - r;
        if (op == ReduceOp::sum) want += x;
        if (op == ReduceOp::max) want = std::max(want, x);
        if (op == ReduceOp::min) want = std::min(want, x);
      }
      bad += got[size_t(i)] != want;
    }
    BOOST_TEST(bad == 0, "i64 " << dist::reduce_op_name(op));
  }
  // An integer average would truncate: refused before any rank communicates.
  Tensor t = Tensor::from_vector<int64_t>(v, {n});
  BOOST_CHECK_THROW(comm->all_reduce(t, ReduceOp::average), ft::Error);
}

BOOST_AUTO_TEST_CASE(all_reduce_rejects_views_that_are_not_contiguous) {
  auto comm = world();
  Tensor t = Tensor::zeros({4, 4});
  Tensor column = t.slice(1, 0, 1);
  BOOST_CHECK_THROW(comm->all_reduce(column, ReduceOp::sum), ft::Error);
  // A contiguous view (rows of a matrix) reduces in place into the base.
  Tensor rows = t.slice(0, 1, 3);
  rows.fill_(1.0);
  comm->all_reduce(rows, ReduceOp::sum);
  auto got = t.to_double_vector();
  BOOST_TEST(got[0] == 0.0);
  BOOST_TEST(got[4] == double(comm->size()));
  BOOST_TEST(got[11] == double(comm->size()));
  BOOST_TEST(got[12] == 0.0);
}

BOOST_AUTO_TEST_CASE(broadcast_int64_and_uint8) {
  auto comm = world();
  for (int root : {0, comm->size() - 1}) {
    std::vector<int64_t> v(37);
    for (size_t i = 0; i < v.size(); ++i) v[i] = (int64_t(comm->rank()) << 40) + int64_t(i) * 1000003;
    Tensor t = Tensor::from_vector<int64_t>(v, {37});
    comm->broadcast(t, root);
    auto got = t.to_vector<int64_t>();
    int64_t bad = 0;
    for (size_t i = 0; i < v.size(); ++i) bad += got[i] != (int64_t(root) << 40) + int64_t(i) * 1000003;
    BOOST_TEST(bad == 0, "i64 broadcast from " << root);

    std::vector<uint8_t> bytes(300);
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = uint8_t(i * 7 + size_t(comm->rank()) * 13);
    Tensor u = Tensor::from_vector<uint8_t>(bytes, {300});
    comm->broadcast(u, root);
    auto got_bytes = u.to_vector<uint8_t>();
    bad = 0;
    for (size_t i = 0; i < bytes.size(); ++i) bad += got_bytes[i] != uint8_t(i * 7 + size_t(root) * 13);
    BOOST_TEST(bad == 0, "u8 broadcast from " << root);
  }
  Tensor t = Tensor::zeros({2});
  BOOST_CHECK_THROW(comm->broadcast(t, comm->size()), ft::Error);
}

BOOST_AUTO_TEST_CASE(all_gather_in_rank_order) {
  auto comm = world();
  const int64_t n = 5;
  const int size = comm->size();
  Tensor input = rank_tensor<float>(comm->rank(), n);
  Tensor output = Tensor::full({size * n}, -1.0);
  comm->all_gather(input, output);
  auto got = output.to_double_vector();
  int64_t bad = 0;
  for (int r = 0; r < size; ++r)
    for (int64_t i = 0; i < n; ++i) bad += got[size_t(r * n + i)] != value(r, i);
  BOOST_TEST(bad == 0);

  // In place: the input is this rank's block of the output (ZeRO-1's gather).
  Tensor arena = Tensor::zeros({size * n});
  Tensor mine = arena.slice(0, comm->rank() * n, (comm->rank() + 1) * n);
  mine.copy_(rank_tensor<float>(comm->rank(), n));
  comm->all_gather(mine, arena);
  got = arena.to_double_vector();
  bad = 0;
  for (int r = 0; r < size; ++r)
    for (int64_t i = 0; i < n; ++i) bad += got[size_t(r * n + i)] != value(r, i);
  BOOST_TEST(bad == 0, "in place");

  Tensor wrong = Tensor::zeros({size * n + 1});
  BOOST_CHECK_THROW(comm->all_gather(input, wrong), ft::Error);
}

BOOST_AUTO_TEST_CASE(reduce_scatter_blocks) {
  auto comm = world();
  const int size = comm->size();
  const int64_t n = 7;
  for (ReduceOp op : {ReduceOp::sum, ReduceOp::average, ReduceOp::max}) {
    Tensor input = rank_tensor<double>(comm->rank(), size * n);
    Tensor output = Tensor::zeros({n}, DType::f64);
    comm->reduce_scatter(input, output, op);
    auto all = expected<double>(op, size, size * n);
    auto got = output.to_double_vector();
    int64_t bad = 0;
    for (int64_t i = 0; i < n; ++i) bad += std::abs(got[size_t(i)] - all[size_t(comm->rank() * n + i)]) > 1e-12;
    BOOST_TEST(bad == 0, "reduce_scatter " << dist::reduce_op_name(op));
  }
  Tensor input = Tensor::zeros({size * n});
  Tensor wrong = Tensor::zeros({n + 1});
  BOOST_CHECK_THROW(comm->reduce_scatter(input, wrong, ReduceOp::sum), ft::Error);
}

BOOST_AUTO_TEST_CASE(async_all_reduce_overlaps_compute) {
  auto comm = world();
  const int64_t n = 1 << 20;
  std::vector<Tensor> buffers;
  std::vector<std::unique_ptr<dist::PendingReduction>> pending;
  for (int k = 0; k < 3; ++k) {
    buffers.push_back(Tensor::full({n}, double(comm->rank() + k)));
    pending.push_back(comm->all_reduce_async(buffers.back(), k == 1 ? ReduceOp::sum : ReduceOp::average));
  }
  // Compute while the reductions are in flight, testing now and then so MPI
  // progresses them.
  Generator gen(7, 0);
  Tensor a = uniform({128, 128}, -1, 1, gen);
  double checksum = 0;
  for (int step = 0; step < 8; ++step) {
    a = matmul(a, a) * (1.0 / 128.0);
    checksum += kernels::sum_all(a);
    for (auto& p : pending) (void)p->test();
  }
  BOOST_TEST(std::isfinite(checksum));
  // Waited out of launch order: each request completes on its own.
  for (int k = 2; k >= 0; --k) pending[size_t(k)]->wait();
  pending[0]->wait();  // a second wait is a no-op
  const double s = comm->size();
  const double rank_sum = s * (s - 1) / 2;
  const double want[3] = {rank_sum / s, rank_sum + s, (rank_sum + 2 * s) / s};
  for (int k = 0; k < 3; ++k) {
    auto got = buffers[size_t(k)].to_double_vector();
    int64_t bad = 0;
    for (double g : got) bad += std::abs(g - want[k]) > 1e-6;
    BOOST_TEST(bad == 0, "async buffer " << k);
  }
  // Destroying an unwaited reduction waits for it (every rank still completes it).
  Tensor last = Tensor::ones({1000});
  { auto unwaited = comm->all_reduce_async(last, ReduceOp::sum); }
  BOOST_TEST(last.to_double_vector()[999] == s);
}

BOOST_AUTO_TEST_CASE(scalar_and_string_helpers) {
  auto comm = world();
  const int size = comm->size();
  BOOST_TEST(comm->all_reduce_scalar(comm->rank() + 1.0, ReduceOp::sum) == size * (size + 1) / 2.0);
  BOOST_TEST(comm->all_reduce_scalar(comm->rank(), ReduceOp::max) == size - 1.0);
  BOOST_TEST(comm->all_reduce_scalar(comm->rank(), ReduceOp::min) == 0.0);
  BOOST_TEST(std::abs(comm->all_reduce_scalar(comm->rank(), ReduceOp::average) - (size - 1) / 2.0) < 1e-12);

  const std::string mine = "run-" + std::to_string(comm->rank()) + std::string(size_t(comm->rank()) * 10, 'x');
  BOOST_TEST(comm->broadcast_string(mine, 0) == "run-0");
  const int last = size - 1;
  BOOST_TEST(comm->broadcast_string(mine, last) == "run-" + std::to_string(last) + std::string(size_t(last) * 10, 'x'));
  BOOST_TEST(comm->broadcast_string(comm->rank() == 0 ? "" : "ignored", 0).empty());
  comm->barrier();
}

BOOST_AUTO_TEST_SUITE_END()
