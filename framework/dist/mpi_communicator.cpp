// The MPI communicator: CPU tensors over a duplicate of MPI_COMM_WORLD (a private
// duplicate, so our collectives can never match messages of other code that uses
// MPI_COMM_WORLD directly). Arguments are checked by Communicator; this file only
// moves bytes (in int-sized chunks where MPI's counts demand it).
#include <algorithm>
#include <climits>
#include <cstdio>
#include <vector>

#include "framework/dist/communicator.h"
#include "framework/dist/mpi_check.h"

namespace ft::dist {

namespace {

// MPI 3 counts are int: larger tensors go in chunks of at most this many elements.
constexpr int64_t kMaxCount = INT_MAX;

// MPI_DATATYPE_NULL for the dtypes MPI cannot reduce (half types, u8).
MPI_Datatype reduction_type(DType dtype) {
  switch (dtype) {
    case DType::f32: return MPI_FLOAT;
    case DType::f64: return MPI_DOUBLE;
    case DType::i32: return MPI_INT32_T;
    case DType::i64: return MPI_INT64_T;
    default: return MPI_DATATYPE_NULL;
  }
}

// For data movement only (gather, broadcast): any dtype, by element size.
MPI_Datatype transfer_type(DType dtype) {
  switch (dtype_size(dtype)) {
    case 1: return MPI_UINT8_T;
    case 2: return MPI_UINT16_T;
    case 4: return MPI_UINT32_T;
    default: return MPI_UINT64_T;
  }
}

MPI_Op mpi_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum:
    case ReduceOp::average: return MPI_SUM;
    case ReduceOp::max: return MPI_MAX;
    case ReduceOp::min: return MPI_MIN;
  }
  return MPI_SUM;
}

// average = sum / size, applied after the sum arrived (threads only for buckets
// large enough to pay for waking them).
template <class T>
void scale(T* p, int64_t n, T factor) {
#pragma omp parallel for simd if (n > (int64_t(1) << 18))
  for (int64_t i = 0; i < n; ++i) p[i] *= factor;
}

void divide(Tensor& t, int size) {
  if (size == 1) return;
  if (t.dtype() == DType::f32)
    scale(t.data<float>(), t.numel(), 1.0f / float(size));
  else
    scale(t.data<double>(), t.numel(), 1.0 / double(size));
}

class MpiPendingReduction final : public PendingReduction {
 public:
  MpiPendingReduction(Tensor t, ReduceOp op, int size, std::vector<MPI_Request> requests)
      : tensor_(std::move(t)), op_(op), size_(size), requests_(std::move(requests)) {}

  ~MpiPendingReduction() override {
    if (done_) return;
    // MPI still owns the buffer until completion: freeing it first would let MPI
    // write into reused memory.
    try {
      wait();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "flowtrain: an unwaited all-reduce failed while being destroyed: %s\n", e.what());
    }
  }

  void wait() override {
    if (done_) return;
    FT_MPI_CHECK(MPI_Waitall(int(requests_.size()), requests_.data(), MPI_STATUSES_IGNORE));
    done_ = true;
    if (op_ == ReduceOp::average) divide(tensor_, size_);
  }

  bool test() override {
    if (done_) return true;
    int flag = 0;
    FT_MPI_CHECK(MPI_Testall(int(requests_.size()), requests_.data(), &flag, MPI_STATUSES_IGNORE));
    return flag != 0;
  }

 private:
  Tensor tensor_;  // keeps the storage alive while MPI writes into it
  ReduceOp op_;
  int size_;
  std::vector<MPI_Request> requests_;
  bool done_ = false;
};

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator() {
    MpiWorld& world = MpiWorld::instance();
    FT_MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &comm_));
    FT_MPI_CHECK(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN));
    rank_ = world.rank();
    size_ = world.size();
    local_rank_ = world.local_rank();
    local_size_ = world.local_size();
  }

  ~MpiCommunicator() override {
    int finalised = 0;
    MPI_Finalized(&finalised);
    if (!finalised) MPI_Comm_free(&comm_);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  int local_size() const override { return local_size_; }

  void barrier() override { FT_MPI_CHECK(MPI_Barrier(comm_)); }

 protected:
  bool reduces(DType dtype) const override { return reduction_type(dtype) != MPI_DATATYPE_NULL; }

  std::unique_ptr<PendingReduction> do_all_reduce_async(Tensor& t, ReduceOp op) override {
    const MPI_Datatype type = reduction_type(t.dtype());
    const size_t element = dtype_size(t.dtype());
    auto* base = static_cast<char*>(t.raw_data());
    std::vector<MPI_Request> requests;
    for (int64_t begin = 0; begin < t.numel(); begin += kMaxCount) {
      const int count = int(std::min(kMaxCount, t.numel() - begin));
      MPI_Request request = MPI_REQUEST_NULL;
      FT_MPI_CHECK(MPI_Iallreduce(MPI_IN_PLACE, base + begin * int64_t(element), count, type, mpi_op(op),
                                  comm_, &request));
      requests.push_back(request);
    }
    return std::make_unique<MpiPendingReduction>(t, op, size_, std::move(requests));
  }

  void do_broadcast(Tensor& t, int root) override {
    const MPI_Datatype type = transfer_type(t.dtype());
    const size_t element = dtype_size(t.dtype());
    auto* base = static_cast<char*>(t.raw_data());
    for (int64_t begin = 0; begin < t.numel(); begin += kMaxCount) {
      const int count = int(std::min(kMaxCount, t.numel() - begin));
      FT_MPI_CHECK(MPI_Bcast(base + begin * int64_t(element), count, type, root, comm_));
    }
  }

  void do_all_gather(const Tensor& input, Tensor& output) override {
    FT_CHECK(input.numel() <= kMaxCount, "all_gather of {} elements per rank exceeds MPI's int count",
             input.numel());
    const MPI_Datatype type = transfer_type(input.dtype());
    const size_t block = input.nbytes();
    auto* out = static_cast<char*>(output.raw_data());
    const auto* in = static_cast<const char*>(input.raw_data());
    // MPI forbids overlapping send and receive buffers except through MPI_IN_PLACE,
    // which means "my block is already at my position in the output".
    const void* send = in == out + size_t(rank_) * block ? MPI_IN_PLACE : in;
    FT_MPI_CHECK(MPI_Allgather(send, int(input.numel()), type, out, int(input.numel()), type, comm_));
  }

  void do_reduce_scatter(const Tensor& input, Tensor& output, ReduceOp op) override {
    FT_CHECK(output.numel() <= kMaxCount, "reduce_scatter of {} elements per rank exceeds MPI's int count",
             output.numel());
    FT_MPI_CHECK(MPI_Reduce_scatter_block(input.raw_data(), output.raw_data(), int(output.numel()),
                                          reduction_type(input.dtype()), mpi_op(op), comm_));
    if (op == ReduceOp::average) divide(output, size_);
  }

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1;
};

}  // namespace

std::shared_ptr<Communicator> make_mpi_communicator() { return std::make_shared<MpiCommunicator>(); }

}  // namespace ft::dist
