// The NCCL communicator: GPU tensors on cuda:local_rank (one GPU per rank on a
// node). Rank 0 creates the unique id and MPI_Bcast hands it to every rank.
// Arguments are checked by Communicator; this file only queues the transfers.
//
// Ordering: every flowtrain kernel and copy runs on the legacy default stream
// (see cuda_allocator.h). A collective is queued on this communicator's own
// stream after an event recorded on the compute stream (so it reads finished
// gradients), and the compute stream waits for the collective's completion
// event before its next work (so nothing reads, frees or reuses the buffer too
// early). wait() therefore does not block the host; host reads go through copies
// on the legacy stream, which are ordered after it too.
#include <cuda_runtime_api.h>
#include <nccl.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "framework/dist/communicator.h"
#include "framework/dist/mpi_check.h"
#include "framework/kernels/cuda/cuda_check.h"
#include "framework/kernels/cuda/cuda_runtime.h"

namespace ft::dist {

namespace {

[[noreturn]] void throw_nccl_error(ncclResult_t status, const char* call, const char* file, int line,
                                   ncclComm_t comm) {
  const char* detail = comm ? ncclGetLastError(comm) : nullptr;
  throw Error(fmt::format("NCCL call {} failed at {}:{}: {}{}{}", call, ::ft::detail::base_name(file), line,
                          ncclGetErrorString(status), detail && *detail ? ": " : "", detail ? detail : ""));
}

}  // namespace

}  // namespace ft::dist

// Used inside NcclCommunicator, whose nccl_handle() gives ncclGetLastError's detail.
#define FT_NCCL_CHECK(call)                                                              \
  do {                                                                                   \
    ncclResult_t ft_nccl_status_ = (call);                                               \
    if (ft_nccl_status_ != ncclSuccess) [[unlikely]]                                     \
      ::ft::dist::throw_nccl_error(ft_nccl_status_, #call, __FILE__, __LINE__, nccl_handle()); \
  } while (0)

namespace ft::dist {

namespace {

// FLOWTRAIN_NCCL_TIMEOUT_S: how long synchronize() waits without progress.
double nccl_timeout_seconds() {
  const char* setting = std::getenv("FLOWTRAIN_NCCL_TIMEOUT_S");
  if (!setting || !*setting) return 600.0;
  char* end = nullptr;
  const double seconds = std::strtod(setting, &end);
  FT_CHECK(end && *end == '\0' && seconds > 0.0, "FLOWTRAIN_NCCL_TIMEOUT_S = \"{}\": expected a positive number of "
           "seconds", setting);
  return seconds;
}

ncclDataType_t nccl_reduction_type(DType dtype) {
  switch (dtype) {
    case DType::f32: return ncclFloat32;
    case DType::f64: return ncclFloat64;
    case DType::bf16: return ncclBfloat16;
    case DType::f16: return ncclFloat16;
    case DType::i32: return ncclInt32;
    case DType::i64: return ncclInt64;
    case DType::u8: return ncclUint8;
  }
  return ncclFloat32;
}

ncclRedOp_t nccl_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum: return ncclSum;
    case ReduceOp::average: return ncclAvg;
    case ReduceOp::max: return ncclMax;
    case ReduceOp::min: return ncclMin;
  }
  return ncclSum;
}

// The compute stream's stalls on collectives: for each wait, an event just before
// the stream waits on the collective and one just after; their distance is how
// long the stream stood still. Read once both have happened.
class StallLog {
 public:
  ~StallLog() {
    for (auto& [before, after] : pairs_) {
      cudaEventDestroy(before);
      cudaEventDestroy(after);
    }
  }
  void record_wait(cudaEvent_t done) {
    cudaEvent_t before = nullptr, after = nullptr;
    FT_CUDA_CHECK(cudaEventCreate(&before));
    FT_CUDA_CHECK(cudaEventCreate(&after));
    FT_CUDA_CHECK(cudaEventRecord(before, cudaStreamLegacy));
    FT_CUDA_CHECK(cudaStreamWaitEvent(cudaStreamLegacy, done, 0));
    FT_CUDA_CHECK(cudaEventRecord(after, cudaStreamLegacy));
    pairs_.emplace_back(before, after);
  }
  double take_completed_seconds() {
    double seconds = 0.0;
    std::vector<std::pair<cudaEvent_t, cudaEvent_t>> pending;
    for (auto& [before, after] : pairs_) {
      const cudaError_t status = cudaEventQuery(after);
      if (status == cudaErrorNotReady) {
        pending.emplace_back(before, after);
        continue;
      }
      FT_CUDA_CHECK(status);
      float ms = 0.0f;
      FT_CUDA_CHECK(cudaEventElapsedTime(&ms, before, after));
      seconds += double(ms) / 1e3;
      FT_CUDA_CHECK(cudaEventDestroy(before));
      FT_CUDA_CHECK(cudaEventDestroy(after));
    }
    pairs_ = std::move(pending);
    return seconds;
  }

 private:
  std::vector<std::pair<cudaEvent_t, cudaEvent_t>> pairs_;
};

class NcclPendingReduction final : public PendingReduction {
 public:
  NcclPendingReduction(Tensor t, cudaEvent_t done, StallLog* stalls)
      : tensor_(std::move(t)), done_(done), stalls_(stalls) {}
  ~NcclPendingReduction() override {
    // Without the wait, later compute-stream work could free or reuse the buffer
    // (the caching allocator) while NCCL still writes into it.
    try {
      wait();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "flowtrain: an unwaited NCCL all-reduce failed while being destroyed: %s\n",
                   e.what());
    }
    cudaEventDestroy(done_);
  }
  void wait() override {
    if (waited_) return;
    stalls_->record_wait(done_);
    waited_ = true;
  }
  bool test() override {
    const cudaError_t status = cudaEventQuery(done_);
    if (status == cudaErrorNotReady) return false;
    FT_CUDA_CHECK(status);
    return true;
  }

 private:
  Tensor tensor_;  // keeps the storage alive until the compute stream is ordered after the collective
  cudaEvent_t done_;
  StallLog* stalls_;  // the communicator's, which outlives its reductions
  bool waited_ = false;
};

class NcclCommunicator final : public Communicator {
 public:
  explicit NcclCommunicator(int device_index) {
    MpiWorld& world = MpiWorld::instance();
    rank_ = world.rank();
    size_ = world.size();
    local_rank_ = world.local_rank();
    local_size_ = world.local_size();
    const int devices = cuda_device_count();
    device_ = device_index < 0 ? local_rank_ : device_index;
    FT_CHECK(device_ < devices,
             "rank {} (local rank {}) has no GPU cuda:{}: {} visible on {} (start one rank per GPU; check "
             "CUDA_VISIBLE_DEVICES)",
             rank_, local_rank_, device_, devices, world.processor_name());
    FT_CUDA_CHECK(cudaSetDevice(device_));
    FT_MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &mpi_comm_));
    FT_MPI_CHECK(MPI_Comm_set_errhandler(mpi_comm_, MPI_ERRORS_RETURN));
    ncclUniqueId id{};
    if (rank_ == 0) FT_NCCL_CHECK(ncclGetUniqueId(&id));
    FT_MPI_CHECK(MPI_Bcast(&id, int(sizeof id), MPI_BYTE, 0, mpi_comm_));
    FT_NCCL_CHECK(ncclCommInitRank(&comm_, size_, id, rank_));
    FT_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    FT_CUDA_CHECK(cudaEventCreateWithFlags(&inputs_ready_, cudaEventDisableTiming));
  }

  ~NcclCommunicator() override {
    // Teardown must not throw: finish queued work, then release in reverse order.
    if (stream_) cudaStreamSynchronize(stream_);
    if (comm_) ncclCommDestroy(comm_);
    if (inputs_ready_) cudaEventDestroy(inputs_ready_);
    if (stream_) cudaStreamDestroy(stream_);
    int finalised = 0;
    MPI_Finalized(&finalised);
    if (!finalised && mpi_comm_ != MPI_COMM_NULL) MPI_Comm_free(&mpi_comm_);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  int local_size() const override { return local_size_; }
  Device device() const override { return Device::cuda(device_); }

  void barrier() override {
    // Host-side: every rank's queued GPU work (compute and collectives) is done.
    synchronize();
    FT_MPI_CHECK(MPI_Barrier(mpi_comm_));
  }

  void synchronize() override {
    const auto start = std::chrono::steady_clock::now();
    for (;;) {
      if (stream_done(stream_) && stream_done(cudaStreamLegacy)) return;
      ncclResult_t async = ncclSuccess;
      FT_NCCL_CHECK(ncclCommGetAsyncError(comm_, &async));
      if (async != ncclSuccess && async != ncclInProgress)
        abort_with(fmt::format("NCCL reported an asynchronous error: {} ({}); a peer failed or the network broke",
                               ncclGetErrorString(async), ncclGetLastError(comm_)));
      const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (waited > timeout_seconds_)
        abort_with(fmt::format("GPU work and collectives made no progress for {:.0f} s (FLOWTRAIN_NCCL_TIMEOUT_S); "
                               "a peer failed or hangs",
                               waited));
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }

  double take_device_seconds_waiting() override { return stalls_.take_completed_seconds(); }

 protected:
  bool reduces(DType) const override { return true; }  // every DType has an NCCL type

  std::unique_ptr<PendingReduction> do_all_reduce_async(Tensor& t, ReduceOp op) override {
    begin();
    FT_NCCL_CHECK(ncclAllReduce(t.raw_data(), t.raw_data(), size_t(t.numel()), nccl_reduction_type(t.dtype()),
                                nccl_op(op), comm_, stream_));
    return std::make_unique<NcclPendingReduction>(t, end(), &stalls_);
  }

  void do_broadcast(Tensor& t, int root) override {
    begin();
    // Bytes: a broadcast moves data of any dtype unchanged.
    FT_NCCL_CHECK(ncclBroadcast(t.raw_data(), t.raw_data(), t.nbytes(), ncclUint8, root, comm_, stream_));
    NcclPendingReduction(t, end(), &stalls_).wait();
  }

  void do_all_gather(const Tensor& input, Tensor& output) override {
    begin();
    // Bytes, as broadcast; an input at this rank's block of the output is NCCL's in-place form.
    FT_NCCL_CHECK(ncclAllGather(input.raw_data(), output.raw_data(), input.nbytes(), ncclUint8, comm_, stream_));
    NcclPendingReduction(output, end(), &stalls_).wait();
  }

  void do_reduce_scatter(const Tensor& input, Tensor& output, ReduceOp op) override {
    begin();
    FT_NCCL_CHECK(ncclReduceScatter(input.raw_data(), output.raw_data(), size_t(output.numel()),
                                    nccl_reduction_type(input.dtype()), nccl_op(op), comm_, stream_));
    NcclPendingReduction(output, end(), &stalls_).wait();
  }


 private:
  ncclComm_t nccl_handle() const { return comm_; }

  static bool stream_done(cudaStream_t stream) {
    const cudaError_t status = cudaStreamQuery(stream);
    if (status == cudaErrorNotReady) return false;
    FT_CUDA_CHECK(status);
    return true;
  }

  // Aborting unblocks this rank's queued collectives, so the error can end the job.
  [[noreturn]] void abort_with(const std::string& cause) {
    ncclCommAbort(comm_);
    comm_ = nullptr;
    throw Error(fmt::format("rank {} (cuda:{}): {}", rank_, device_, cause));
  }

  // The collective reads what the compute stream has produced so far.
  void begin() {
    int current = -1;
    FT_CUDA_CHECK(cudaGetDevice(&current));
    if (current != device_) FT_CUDA_CHECK(cudaSetDevice(device_));
    FT_CUDA_CHECK(cudaEventRecord(inputs_ready_, cudaStreamLegacy));
    FT_CUDA_CHECK(cudaStreamWaitEvent(stream_, inputs_ready_, 0));
  }

  // The completion event of what was just queued on the collective stream.
  cudaEvent_t end() {
    cudaEvent_t done = nullptr;
    FT_CUDA_CHECK(cudaEventCreateWithFlags(&done, cudaEventDisableTiming));
    FT_CUDA_CHECK(cudaEventRecord(done, stream_));
    return done;
  }

  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1, device_ = 0;
  MPI_Comm mpi_comm_ = MPI_COMM_NULL;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  cudaEvent_t inputs_ready_ = nullptr;
  StallLog stalls_;
  double timeout_seconds_ = nccl_timeout_seconds();
};

}  // namespace

std::shared_ptr<Communicator> make_nccl_communicator(int device_index) {
  return std::make_shared<NcclCommunicator>(device_index);
}

}  // namespace ft::dist
