// The NCCL communicator on one GPU (a world of one, without mpirun: MPI starts as a
// singleton). Checks that the collectives run, keep values (size 1: sum = average
// = the input), order against the compute stream, and refuse CPU tensors and
// mismatched element counts. Multi-rank NCCL runs belong on a GPU node under
// mpirun with one rank per GPU. Compiled only with CUDA; main.cpp skips without a
// device.
#include <boost/test/unit_test.hpp>

#if defined(FLOWTRAIN_HAVE_CUDA)

#include <vector>

#include "framework/dist/communicator.h"

namespace {

using namespace ft;

std::shared_ptr<dist::Communicator> nccl() {
  static std::shared_ptr<dist::Communicator> comm = dist::make_nccl_communicator();
  return comm;
}

Tensor on_gpu(const std::vector<float>& values) {
  return Tensor::from_vector<float>(values, {int64_t(values.size())}).to(Device::cuda(0));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(nccl_communicator)

BOOST_AUTO_TEST_CASE(world_of_one) {
  auto comm = nccl();
  BOOST_TEST(comm->size() == 1);
  BOOST_TEST(comm->rank() == 0);
  BOOST_TEST(comm->local_rank() == 0);
  BOOST_TEST((comm->device() == Device::cuda(0)));
  const std::vector<float> values{1.5f, -2.0f, 3.25f, 0.0f, 7.0f};
  for (auto op : {dist::ReduceOp::sum, dist::ReduceOp::average, dist::ReduceOp::max, dist::ReduceOp::min}) {
    Tensor t = on_gpu(values);
    comm->all_reduce(t, op);
    BOOST_TEST(t.to(Device::cpu()).to_vector<float>() == values, boost::test_tools::per_element());
  }
  Tensor t = on_gpu(values);
  auto pending = comm->all_reduce_async(t, dist::ReduceOp::sum);
  pending->wait();
  BOOST_TEST(t.to(Device::cpu()).to_vector<float>() == values, boost::test_tools::per_element());

  Tensor gathered = on_gpu(std::vector<float>(values.size(), 0.0f));
  comm->all_gather(on_gpu(values), gathered);
  BOOST_TEST(gathered.to(Device::cpu()).to_vector<float>() == values, boost::test_tools::per_element());
  Tensor scattered = on_gpu(std::vector<float>(values.size(), 0.0f));
  comm->reduce_scatter(on_gpu(values), scattered, dist::ReduceOp::sum);
  BOOST_TEST(scattered.to(Device::cpu()).to_vector<float>() == values, boost::test_tools::per_element());
  comm->broadcast(t, 0);
  BOOST_TEST(comm->all_reduce_scalar(2.5, dist::ReduceOp::sum) == 2.5);
  BOOST_TEST(comm->broadcast_string("nccl", 0) == "nccl");
  comm->barrier();
}

BOOST_AUTO_TEST_CASE(refuses_cpu_tensors_and_wrong_counts) {
  auto comm = nccl();
  Tensor cpu = Tensor::ones({4});
  BOOST_CHECK_THROW(comm->all_reduce(cpu, dist::ReduceOp::sum), ft::Error);
  Tensor small = on_gpu({1.0f, 2.0f});
  Tensor big = on_gpu({1.0f, 2.0f, 3.0f});
  BOOST_CHECK_THROW(comm->all_gather(small, big), ft::Error);
  BOOST_CHECK_THROW(comm->reduce_scatter(big, small, dist::ReduceOp::sum), ft::Error);
}

BOOST_AUTO_TEST_SUITE_END()

#endif  // FLOWTRAIN_HAVE_CUDA
