// Helpers shared by the MPI tests.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "framework/dist/communicator.h"

namespace ft::testing {

// One communicator for the whole executable (each make_mpi_communicator is a
// collective MPI_Comm_dup, so tests share it).
inline std::shared_ptr<dist::Communicator> world() {
  static std::shared_ptr<dist::Communicator> comm = dist::make_mpi_communicator();
  return comm;
}

// Forwards to another communicator and records what was called, in order, so
// tests can see which collectives the reducer issued and when. Arguments are
// checked twice (here and by the inner communicator's public calls); harmless.
class RecordingCommunicator final : public dist::Communicator {
 public:
  struct Call {
    std::string what;
    int64_t numel = 0;
  };
  explicit RecordingCommunicator(std::shared_ptr<dist::Communicator> inner) : inner_(std::move(inner)) {}
  int rank() const override { return inner_->rank(); }
  int size() const override { return inner_->size(); }
  int local_rank() const override { return inner_->local_rank(); }
  int local_size() const override { return inner_->local_size(); }
  Device device() const override { return inner_->device(); }
  void barrier() override { inner_->barrier(); }

  size_t count(const std::string& what) const {
    size_t n = 0;
    for (auto& call : calls) n += call.what == what;
    return n;
  }
  std::vector<Call> calls;

 protected:
  bool reduces(DType) const override { return true; }  // the inner communicator decides
  void do_all_reduce(Tensor& t, dist::ReduceOp op) override {
    calls.push_back({"all_reduce", t.numel()});
    inner_->all_reduce(t, op);
  }
  std::unique_ptr<dist::PendingReduction> do_all_reduce_async(Tensor& t, dist::ReduceOp op) override {
    calls.push_back({"all_reduce_async", t.numel()});
    return inner_->all_reduce_async(t, op);
  }
  void do_broadcast(Tensor& t, int root) override {
    calls.push_back({"broadcast", t.numel()});
    inner_->broadcast(t, root);
  }
  void do_all_gather(const Tensor& input, Tensor& output) override {
    calls.push_back({"all_gather", input.numel()});
    inner_->all_gather(input, output);
  }
  void do_reduce_scatter(const Tensor& input, Tensor& output, dist::ReduceOp op) override {
    calls.push_back({"reduce_scatter", input.numel()});
    inner_->reduce_scatter(input, output, op);
  }

 private:
  std::shared_ptr<dist::Communicator> inner_;
};

}  // namespace ft::testing
