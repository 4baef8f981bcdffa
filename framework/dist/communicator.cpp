// What every communicator shares: the scalar and string helpers (built on the
// virtual tensor collectives, so they work on CPU and GPU communicators alike),
// the MPI world singleton and the MPI error check.
#include "framework/dist/communicator.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <string>

#include "framework/dist/mpi_check.h"

namespace ft::dist {

namespace detail {

[[noreturn]] void throw_mpi_error(int code, const char* call, const char* file, int line) {
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) std::snprintf(text, sizeof text, "unknown error");
  const char* slash = std::strrchr(file, '/');
  throw Error(fmt::format("MPI call {} failed at {}:{}: {} (code {})", call, slash ? slash + 1 : file, line,
                          text, code));
}

}  // namespace detail

const char* reduce_op_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum: return "sum";
    case ReduceOp::average: return "average";
    case ReduceOp::max: return "max";
    case ReduceOp::min: return "min";
  }
  return "?";
}

double Communicator::all_reduce_scalar(double value, ReduceOp op) {
  Tensor t = Tensor::full({1}, value, DType::f64);
  if (device() != Device::cpu()) t = t.to(device());
  all_reduce(t, op);
  return t.to(Device::cpu()).item();
}

std::string Communicator::broadcast_string(const std::string& value, int root) {
  // Length first: the other ranks must size their buffer before the bytes arrive.
  Tensor length = Tensor::full({1}, double(value.size()), DType::i64);
  if (device() != Device::cpu()) length = length.to(device());
  broadcast(length, root);
  const auto n = length.to(Device::cpu()).to_vector<int64_t>()[0];
  Tensor bytes = Tensor::zeros({n}, DType::u8);
  if (rank() == root) std::copy(value.begin(), value.end(), bytes.data<uint8_t>());
  if (device() != Device::cpu()) bytes = bytes.to(device());
  broadcast(bytes, root);
  Tensor host = bytes.to(Device::cpu());
  const auto* p = host.data<uint8_t>();
  return std::string(reinterpret_cast<const char*>(p), size_t(n));
}

std::vector<std::string> Communicator::all_gather_string(const std::string& value) {
  // Lengths first, then every string padded to the longest: all_gather moves equal blocks.
  Tensor length = Tensor::full({1}, double(value.size()), DType::i64);
  Tensor lengths = Tensor::zeros({size()}, DType::i64);
  if (device() != Device::cpu()) {
    length = length.to(device());
    lengths = lengths.to(device());
  }
  all_gather(length, lengths);
  const std::vector<int64_t> sizes = lengths.to(Device::cpu()).to_vector<int64_t>();
  const int64_t longest = std::max<int64_t>(1, *std::max_element(sizes.begin(), sizes.end()));
  Tensor mine = Tensor::zeros({longest}, DType::u8);
  std::copy(value.begin(), value.end(), mine.data<uint8_t>());
  Tensor all = Tensor::zeros({longest * size()}, DType::u8);
  if (device() != Device::cpu()) {
    mine = mine.to(device());
    all = all.to(device());
  }
  all_gather(mine, all);
  Tensor host = all.to(Device::cpu());
  const auto* bytes = reinterpret_cast<const char*>(host.data<uint8_t>());
  std::vector<std::string> values;
  for (int r = 0; r < size(); ++r) values.emplace_back(bytes + r * longest, size_t(sizes[size_t(r)]));
  return values;
}

// ---- MpiWorld -----------------------------------------------------------------------

MpiWorld& MpiWorld::instance() {
  static MpiWorld world;
  return world;
}

MpiWorld::MpiWorld() {
  int initialised = 0;
  FT_MPI_CHECK(MPI_Initialized(&initialised));
  if (!initialised) {
    int provided = 0;
    // Funneled is enough: only the main thread calls MPI (OpenMP workers never do).
    FT_MPI_CHECK(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided));
    initialised_here_ = true;
    FT_CHECK(provided >= MPI_THREAD_FUNNELED, "MPI provides thread level {} < MPI_THREAD_FUNNELED", provided);
  }
  // Errors come back as codes (and become ft::Error at the check) instead of
  // aborting the job inside MPI without the call's name.
  FT_MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
  FT_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank_));
  FT_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size_));
  MPI_Comm local = MPI_COMM_NULL;
  FT_MPI_CHECK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &local));
  FT_MPI_CHECK(MPI_Comm_rank(local, &local_rank_));
  FT_MPI_CHECK(MPI_Comm_size(local, &local_size_));
  FT_MPI_CHECK(MPI_Comm_free(&local));
  char name[MPI_MAX_PROCESSOR_NAME] = {};
  int length = 0;
  FT_MPI_CHECK(MPI_Get_processor_name(name, &length));
  processor_name_.assign(name, size_t(length));

  // srun without PMI/PMIx support starts N singletons that each believe they are
  // rank 0 of 1 and would train N unsynchronised copies; catch that at start.
  if (const char* tasks = std::getenv("SLURM_STEP_NUM_TASKS")) {
    const long n = std::strtol(tasks, nullptr, 10);
    if (n > 1 && size_ == 1)
      FT_FAIL("SLURM started {} tasks but MPI sees a world of 1: MPI was not launched through PMI/PMIx "
              "(try srun --mpi=pmix, or mpirun)",
              n);
  }
}

void MpiWorld::abort(int error_code) const {
  MPI_Abort(MPI_COMM_WORLD, error_code);
  std::_Exit(error_code);  // MPI_Abort does not return; this keeps the promise if it did
}

MpiWorld::~MpiWorld() {
  if (!initialised_here_) return;
  int finalised = 0;
  MPI_Finalized(&finalised);
  if (!finalised) MPI_Finalize();
}

}  // namespace ft::dist
