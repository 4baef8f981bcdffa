// What every communicator shares: the argument checks of the collectives, the
// scalar and string helpers (built on the tensor collectives, so they work on CPU
// and GPU communicators alike), the MPI world singleton and the MPI error check.
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

// ---- checked collectives -------------------------------------------------------------

void Communicator::check_tensor(const Tensor& t, const char* what) const {
  FT_CHECK(t.defined(), "{} of an undefined tensor", what);
  // A host communicator (MPI) moves host memory, which every CPU device is.
  const bool host_memory = device().kind == DeviceKind::cpu && t.device().kind == DeviceKind::cpu;
  FT_CHECK(t.device() == device() || host_memory,
           "{} of a tensor on {}: this rank's communicator takes tensors on {}", what, t.device().str(),
           device().str());
  FT_CHECK(t.is_contiguous(), "{} of a non-contiguous tensor (shape {}); call contiguous() first", what,
           shape_str(t.shape()));
}

void Communicator::check_reduction(const Tensor& t, ReduceOp op, const char* what) const {
  check_tensor(t, what);
  FT_CHECK(reduces(t.dtype()), "{} of a {} tensor: this communicator does not reduce {}", what,
           dtype_name(t.dtype()), dtype_name(t.dtype()));
  FT_CHECK(t.dtype() != DType::u8 || op == ReduceOp::max || op == ReduceOp::min,
           "{} {} of a u8 tensor would wrap around", what, reduce_op_name(op));
  FT_CHECK(op != ReduceOp::average || is_floating(t.dtype()),
           "{} average of a {} tensor: an integer average would truncate; reduce with sum", what,
           dtype_name(t.dtype()));
}

void Communicator::all_reduce(Tensor& t, ReduceOp op) {
  check_reduction(t, op, "all_reduce");
  do_all_reduce(t, op);
}

std::unique_ptr<PendingReduction> Communicator::all_reduce_async(Tensor& t, ReduceOp op) {
  check_reduction(t, op, "all_reduce");
  return do_all_reduce_async(t, op);
}

void Communicator::broadcast(Tensor& t, int root) {
  check_tensor(t, "broadcast");
  FT_CHECK(root >= 0 && root < size(), "broadcast root {} outside a world of {}", root, size());
  do_broadcast(t, root);
}

void Communicator::check_blocks(const Tensor& whole, const Tensor& block, const char* what) const {
  check_tensor(whole, what);
  check_tensor(block, what);
  FT_CHECK(whole.dtype() == block.dtype(), "{} between {} and {} tensors", what, dtype_name(whole.dtype()),
           dtype_name(block.dtype()));
  FT_CHECK(whole.numel() == int64_t(size()) * block.numel(),
           "{}: the whole tensor has {} elements, expected size {} x block {}", what, whole.numel(), size(),
           block.numel());
}

void Communicator::all_gather(const Tensor& input, Tensor& output) {
  check_blocks(output, input, "all_gather");
  const auto* in = static_cast<const char*>(input.raw_data());
  const auto* out = static_cast<const char*>(output.raw_data());
  const bool in_place = in == out + size_t(rank()) * input.nbytes();
  FT_CHECK(in_place || in + input.nbytes() <= out || in >= out + output.nbytes(),
           "all_gather: the input overlaps the output other than at this rank's block");
  do_all_gather(input, output);
}

void Communicator::reduce_scatter(const Tensor& input, Tensor& output, ReduceOp op) {
  check_reduction(input, op, "reduce_scatter");
  check_blocks(input, output, "reduce_scatter");
  const auto* in = static_cast<const char*>(input.raw_data());
  const auto* out = static_cast<const char*>(output.raw_data());
  FT_CHECK(out + output.nbytes() <= in || out >= in + input.nbytes(),
           "reduce_scatter: the output overlaps the input; reduce into a separate buffer");
  do_reduce_scatter(input, output, op);
}

// ---- helpers on top -------------------------------------------------------------------

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
