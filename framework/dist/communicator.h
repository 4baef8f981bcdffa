// Collective communication between the ranks of a data-parallel job.
//
// A Communicator works on whole contiguous tensors in place. The public calls check
// their arguments (device, layout, dtype, sizes, overlap, root) once, here, for every
// backend; a backend (MPI, NCCL) only moves the bytes. Every rank must call
// the same collectives in the same order with matching element counts: MPI and
// NCCL match collectives by order, so a rank that skips one (or passes another
// size) hangs the job or corrupts data. The MPI implementation takes CPU tensors;
// the NCCL one tensors on the rank's GPU (cuda:local_rank).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "framework/core/tensor.h"

namespace ft::dist {

// average = sum, then divide by size() (floating tensors only: an integer average
// would silently truncate).
enum class ReduceOp { sum, average, max, min };
const char* reduce_op_name(ReduceOp op);

// A collective started by all_reduce_async. wait() blocks until the result is in
// the tensor (for NCCL: until work queued after it on the compute stream is
// ordered after it). Destroying an unwaited reduction waits first, since the
// library still writes into the tensor's memory until then.
class PendingReduction {
 public:
  virtual ~PendingReduction() = default;
  virtual void wait() = 0;
  // Non-blocking check that also lets MPI progress the collective (Open MPI moves
  // non-blocking collectives forward only inside MPI calls). True once complete;
  // wait() is still required to finish the reduction (e.g. average's division).
  virtual bool test() { return false; }
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Rank and size among the processes on this node (MPI_COMM_TYPE_SHARED).
  virtual int local_rank() const = 0;
  virtual int local_size() const = 0;
  // The device whose tensors this communicator takes.
  virtual Device device() const { return Device::cpu(); }

  // Every tensor is contiguous and on device(). Reductions take the dtypes the
  // backend reduces (MPI: f32, f64, i32, i64; NCCL also bf16, f16, and u8 for
  // max/min); average takes floating dtypes only.

  // In place.
  void all_reduce(Tensor& t, ReduceOp op);
  // Non-blocking all-reduce: t must stay untouched until wait().
  std::unique_ptr<PendingReduction> all_reduce_async(Tensor& t, ReduceOp op);
  // Every rank's t becomes root's t; any dtype.
  void broadcast(Tensor& t, int root);
  // output = concatenation of every rank's input in rank order;
  // output.numel() == size() * input.numel(). input may be this rank's slice of
  // output (in place), as ZeRO-1's parameter gather does; no other overlap.
  void all_gather(const Tensor& input, Tensor& output);
  // output = this rank's block of the reduction of every rank's input;
  // input.numel() == size() * output.numel(). Blocks are in rank order; output and
  // input do not overlap.
  void reduce_scatter(const Tensor& input, Tensor& output, ReduceOp op);
  virtual void barrier() = 0;
  // Blocks until this rank's queued device work and collectives are done. NCCL's
  // asynchronous errors are checked while it waits, and a wait with no progress
  // for FLOWTRAIN_NCCL_TIMEOUT_S seconds (default 600) aborts the communicator: a
  // failed or stuck peer ends this rank with a message, not a hang. Host
  // communicators block in every call already: nothing is queued.
  virtual void synchronize() {}
  // Seconds the device's compute stream stalled waiting for collectives, for the
  // waits that have completed since the last call (CUDA events; NCCL's waits do not
  // block the host, so host clocks miss them). 0 for host communicators, whose
  // waits the caller times on the host.
  virtual double take_device_seconds_waiting() { return 0.0; }

  // One value reduced over ranks (e.g. a loss, a non-finite flag).
  double all_reduce_scalar(double value, ReduceOp op);
  // root's string on every rank (e.g. rank 0's run directory or decision).
  std::string broadcast_string(const std::string& value, int root);
  // Every rank's string on every rank, in rank order (e.g. each rank's verdict).
  std::vector<std::string> all_gather_string(const std::string& value);

 protected:
  // Whether the backend can reduce this dtype at all.
  virtual bool reduces(DType dtype) const = 0;
  // The backends' byte movers, called with arguments already checked.
  virtual void do_all_reduce(Tensor& t, ReduceOp op) { do_all_reduce_async(t, op)->wait(); }
  virtual std::unique_ptr<PendingReduction> do_all_reduce_async(Tensor& t, ReduceOp op) = 0;
  virtual void do_broadcast(Tensor& t, int root) = 0;
  virtual void do_all_gather(const Tensor& input, Tensor& output) = 0;
  virtual void do_reduce_scatter(const Tensor& input, Tensor& output, ReduceOp op) = 0;

 private:
  void check_tensor(const Tensor& t, const char* what) const;
  void check_reduction(const Tensor& t, ReduceOp op, const char* what) const;
  // whole.numel() == size() * block.numel(), same dtype, both contiguous on device().
  void check_blocks(const Tensor& whole, const Tensor& block, const char* what) const;
};

// The process-wide MPI world (the one allowed singleton). The first call
// initialises MPI (MPI_THREAD_FUNNELED: only the main thread calls MPI); MPI is
// finalised at exit if this object initialised it. Works under mpirun, srun (with
// PMI/PMIx) or alone (a world of one).
class MpiWorld {
 public:
  static MpiWorld& instance();
  int rank() const { return rank_; }
  int size() const { return size_; }
  int local_rank() const { return local_rank_; }
  int local_size() const { return local_size_; }
  // The node's name as MPI reports it (for logs).
  const std::string& processor_name() const { return processor_name_; }
  // Ends every rank of the job: after an error on one rank the others would wait
  // forever in their next collective, so a failing rank should take them down.
  [[noreturn]] void abort(int error_code) const;

  MpiWorld(const MpiWorld&) = delete;
  MpiWorld& operator=(const MpiWorld&) = delete;

 private:
  MpiWorld();
  ~MpiWorld();
  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1;
  bool initialised_here_ = false;
  std::string processor_name_;
};

// A communicator over (a duplicate of) MPI_COMM_WORLD, for CPU tensors.
std::shared_ptr<Communicator> make_mpi_communicator();

#if defined(FLOWTRAIN_HAVE_CUDA)
// A communicator for GPU tensors on cuda:device_index (-1: cuda:local_rank, the
// placement of one rank per GPU with every GPU visible). Rank 0 creates the NCCL
// unique id and MPI_Bcast hands it to every rank. Collectives run on their own
// stream, ordered after the work already queued on the compute stream (the legacy
// default stream) by events; the compute stream waits for their completion.
std::shared_ptr<Communicator> make_nccl_communicator(int device_index = -1);
#endif

}  // namespace ft::dist
