// cuDNN graphs through cudnn-frontend: causal SDPA forward (with the softmax
// stats) and backward for bf16/f16, layer-norm forward (training) and backward
// for f32. The only translation unit that includes the frontend.
//
// A graph is described with tensor attributes, validated by the frontend,
// lowered to the cuDNN backend (which needs a handle, hence a device), given an
// execution plan by the heuristics and run with a variant pack: device pointers
// by tensor uid. Validation alone needs no device once the target compute
// capability is set on the graph (set_sm_version), which is what
// validate_attention_graphs / validate_layer_norm_graphs check in CI.
#include "framework/kernels/cuda/cudnn_graphs.h"

#include <cuda_runtime_api.h>
#include <cudnn_frontend.h>

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "framework/kernels/cuda/cuda_check.h"
#include "framework/kernels/cuda/cuda_device.h"
#include "framework/kernels/cuda/cudnn_handle.h"
#include "framework/kernels/kernels.h"

namespace fe = cudnn_frontend;

namespace ft::detail {

inline const char* cudnn_frontend_hint(fe::error_code_t code) {
  switch (code) {
    case fe::error_code_t::GRAPH_NOT_SUPPORTED:
      return "cuDNN has no engine for this shape or dtype on this GPU (SDPA needs a head dim that is a multiple "
             "of 8, at most 256); CUDNN_FRONTEND_LOG_INFO=1 CUDNN_FRONTEND_LOG_FILE=stderr logs the frontend's "
             "checks";
    case fe::error_code_t::ATTRIBUTE_NOT_SET:
    case fe::error_code_t::SHAPE_DEDUCTION_FAILED:
    case fe::error_code_t::INVALID_VALUE:
      return "a tensor's dims, strides or dtype are missing or inconsistent in the graph (cudnn_graphs.cpp)";
    case fe::error_code_t::INVALID_VARIANT_PACK:
      return "a device pointer is missing for one of the graph's tensor uids";
    case fe::error_code_t::CUDA_API_FAILED:
    case fe::error_code_t::INVALID_CUDA_DEVICE:
      return "no usable CUDA device or driver; check nvidia-smi and CUDA_VISIBLE_DEVICES";
    case fe::error_code_t::HEURISTIC_QUERY_FAILED:
    case fe::error_code_t::GRAPH_EXECUTION_PLAN_CREATION_FAILED:
      return "cuDNN found no execution plan; the cuDNN library may be too old for this GPU or graph";
    case fe::error_code_t::CUDNN_BACKEND_API_FAILED:
      return "libcudnn rejected the lowered graph; the message names the backend call";
    case fe::error_code_t::GRAPH_EXECUTION_FAILED:
      return "a cuDNN kernel failed to run; rerun with CUDA_LAUNCH_BLOCKING=1";
    default:
      return "see the cudnn-frontend documentation for this error code";
  }
}

[[noreturn]] inline void throw_cudnn_frontend_error(fe::error_t status, const char* call, const char* file,
                                                    int line) {
  std::ostringstream code;
  code << status.get_code();
  throw Error(fmt::format("cudnn-frontend call {} failed at {}:{}: {} ({}); hint: {}", call, base_name(file), line,
                          status.get_message(), code.str(), cudnn_frontend_hint(status.get_code())));
}

}  // namespace ft::detail

#define FT_CUDNN_FE_CHECK(call)                                                                 \
  do {                                                                                          \
    ::cudnn_frontend::error_t ft_fe_status_ = (call);                                           \
    if (ft_fe_status_.is_bad()) [[unlikely]]                                                    \
      ::ft::detail::throw_cudnn_frontend_error(ft_fe_status_, #call, __FILE__, __LINE__);       \
  } while (0)

namespace ft::kernels::cuda {

namespace {

using fe::graph::Graph;
using fe::graph::Tensor_attributes;
using GraphPtr = std::shared_ptr<Graph>;
using TensorPtr = std::shared_ptr<Tensor_attributes>;

// Tensor uids: the keys of the variant pack, the same in every graph.
enum Uid : int64_t {
  kQ = 1,
  kK,
  kV,
  kO,
  kStats,
  kGradO,
  kGradQ,
  kGradK,
  kGradV,
  kX,
  kScale,
  kBias,
  kY,
  kMean,
  kInvVariance,
  kGradY,
  kGradX,
  kGradScale,
  kGradBias,
};

fe::DataType_t frontend_dtype(DType dtype) {
  switch (dtype) {
    case DType::bf16:
      return fe::DataType_t::BFLOAT16;
    case DType::f16:
      return fe::DataType_t::HALF;
    case DType::f32:
      return fe::DataType_t::FLOAT;
    default:
      FT_FAIL("no cuDNN graph dtype for {}", dtype_name(dtype));
  }
}

std::vector<int64_t> dense_strides(const std::vector<int64_t>& dims) {
  std::vector<int64_t> strides(dims.size(), 1);
  for (size_t i = dims.size() - 1; i > 0; --i) strides[i - 1] = strides[i] * dims[i];
  return strides;
}

// Every graph here computes in f32. The target compute capability goes on the
// graph before any node: each node copies the graph's context when it is added.
GraphPtr new_graph(DType io_dtype, int sm_version) {
  auto graph = std::make_shared<Graph>();
  graph->set_io_data_type(frontend_dtype(io_dtype))
      .set_intermediate_data_type(fe::DataType_t::FLOAT)
      .set_compute_data_type(fe::DataType_t::FLOAT)
      .set_sm_version(sm_version);
  return graph;
}

TensorPtr input(Graph& graph, const char* name, Uid uid, const std::vector<int64_t>& dims, DType dtype) {
  return graph.tensor(Tensor_attributes()
                          .set_name(name)
                          .set_uid(uid)
                          .set_dim(dims)
                          .set_stride(dense_strides(dims))
                          .set_data_type(frontend_dtype(dtype)));
}

void mark_output(const TensorPtr& tensor, Uid uid, const std::vector<int64_t>& dims, DType dtype) {
  tensor->set_output(true).set_uid(uid).set_dim(dims).set_stride(dense_strides(dims)).set_data_type(
      frontend_dtype(dtype));
}

// ---- causal attention ----------------------------------------------------------------

std::vector<int64_t> qkv_dims(const AttentionShape& s) { return {s.batch, s.heads, s.tokens, s.head_dim}; }
// The softmax stats per query row, f32: cuDNN's [B, H, T, 1] over our [B, H, T].
std::vector<int64_t> stats_dims(const AttentionShape& s) { return {s.batch, s.heads, s.tokens, 1}; }

// Stats are max + ln(sum exp(scale * s - max)) per row: the natural-log logsumexp
// the CPU kernel saves (stats_use_log2 stays off). The implementation is AUTO:
// the unified engine where this cuDNN has it (9.13.1+), else the composite one.
GraphPtr attention_forward_graph(const AttentionShape& shape, DType dtype, double scale, int sm_version) {
  GraphPtr graph = new_graph(dtype, sm_version);
  auto q = input(*graph, "q", kQ, qkv_dims(shape), dtype);
  auto k = input(*graph, "k", kK, qkv_dims(shape), dtype);
  auto v = input(*graph, "v", kV, qkv_dims(shape), dtype);
  auto options = fe::graph::SDPA_attributes()
                     .set_name("causal_attention")
                     .set_generate_stats(true)
                     .set_causal_mask(true)
                     .set_attn_scale(float(scale));
  std::array<TensorPtr, 2> outputs;  // O and Stats
  try {
    outputs = graph->sdpa(q, k, v, options);
  } catch (const std::runtime_error& no_implementation) {  // neither engine offers these features
    FT_FAIL("cudnn-frontend: {} (causal attention with stats, sm_{})", no_implementation.what(), sm_version);
  }
  mark_output(outputs[0], kO, qkv_dims(shape), dtype);
  mark_output(outputs[1], kStats, stats_dims(shape), DType::f32);
  return graph;
}

GraphPtr attention_backward_graph(const AttentionShape& shape, DType dtype, double scale, int sm_version) {
  GraphPtr graph = new_graph(dtype, sm_version);
  auto q = input(*graph, "q", kQ, qkv_dims(shape), dtype);
  auto k = input(*graph, "k", kK, qkv_dims(shape), dtype);
  auto v = input(*graph, "v", kV, qkv_dims(shape), dtype);
  auto o = input(*graph, "o", kO, qkv_dims(shape), dtype);
  auto grad_o = input(*graph, "grad_o", kGradO, qkv_dims(shape), dtype);
  auto stats = input(*graph, "stats", kStats, stats_dims(shape), DType::f32);
  auto options = fe::graph::SDPA_backward_attributes()
                     .set_name("causal_attention_backward")
                     .set_causal_mask(true)
                     .set_attn_scale(float(scale));
  auto [grad_q, grad_k, grad_v] = graph->sdpa_backward(q, k, v, o, grad_o, stats, options);
  mark_output(grad_q, kGradQ, qkv_dims(shape), dtype);
  mark_output(grad_k, kGradK, qkv_dims(shape), dtype);
  mark_output(grad_v, kGradV, qkv_dims(shape), dtype);
  return graph;
}

// ---- layer norm ----------------------------------------------------------------------
// cuDNN normalises each row of [rows, C, 1, 1] over C; the affine parameters are
// [1, C, 1, 1] and the saved statistics [rows, 1, 1, 1].

std::vector<int64_t> rows_dims(int64_t rows, int64_t width) { return {rows, width, 1, 1}; }
std::vector<int64_t> channel_dims(int64_t width) { return {1, width, 1, 1}; }
std::vector<int64_t> row_stat_dims(int64_t rows) { return {rows, 1, 1, 1}; }

GraphPtr layer_norm_forward_graph(int64_t rows, int64_t width, bool affine, double eps, int sm_version) {
  GraphPtr graph = new_graph(DType::f32, sm_version);
  auto x = input(*graph, "x", kX, rows_dims(rows, width), DType::f32);
  TensorPtr scale, bias;
  if (affine) {
    scale = input(*graph, "scale", kScale, channel_dims(width), DType::f32);
    bias = input(*graph, "bias", kBias, channel_dims(width), DType::f32);
  }
  auto options = fe::graph::Layernorm_attributes()
                     .set_name("layer_norm")
                     .set_forward_phase(fe::NormFwdPhase_t::TRAINING)
                     .set_epsilon(float(eps));
  auto [y, mean, inv_variance] = graph->layernorm(x, scale, bias, options);
  mark_output(y, kY, rows_dims(rows, width), DType::f32);
  mark_output(mean, kMean, row_stat_dims(rows), DType::f32);
  mark_output(inv_variance, kInvVariance, row_stat_dims(rows), DType::f32);
  return graph;
}

GraphPtr layer_norm_backward_graph(int64_t rows, int64_t width, bool affine, int sm_version) {
  GraphPtr graph = new_graph(DType::f32, sm_version);
  auto grad_y = input(*graph, "grad_y", kGradY, rows_dims(rows, width), DType::f32);
  auto x = input(*graph, "x", kX, rows_dims(rows, width), DType::f32);
  auto mean = input(*graph, "mean", kMean, row_stat_dims(rows), DType::f32);
  auto inv_variance = input(*graph, "inv_variance", kInvVariance, row_stat_dims(rows), DType::f32);
  TensorPtr scale = affine ? input(*graph, "scale", kScale, channel_dims(width), DType::f32) : nullptr;
  auto options = fe::graph::Layernorm_backward_attributes()
                     .set_name("layer_norm_backward")
                     .set_saved_mean_and_inv_variance(mean, inv_variance);
  auto [grad_x, grad_scale, grad_bias] = graph->layernorm_backward(grad_y, x, scale, options);
  mark_output(grad_x, kGradX, rows_dims(rows, width), DType::f32);
  if (affine) {
    mark_output(grad_scale, kGradScale, channel_dims(width), DType::f32);
    mark_output(grad_bias, kGradBias, channel_dims(width), DType::f32);
  }
  return graph;
}

// ---- built graphs, cached --------------------------------------------------------------

enum class GraphKind { attention_forward, attention_backward, layer_norm_forward, layer_norm_backward };

struct GraphKey {
  GraphKind kind;
  std::vector<int64_t> dims;
  DType dtype;
  int device;
  uint64_t constant_bits;  // the attention scale or the epsilon baked into the graph
  bool affine;
  auto operator<=>(const GraphKey&) const = default;
};

int device_sm_version(int device_index) {
  int major = 0, minor = 0;
  FT_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device_index));
  FT_CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device_index));
  return major * 10 + minor;
}

// The graph for key, built on first use for key.device (current) with the
// heuristics' first plan. Building costs milliseconds to seconds; a training
// step reuses the few shapes it has.
const Graph& built_graph(const GraphKey& key, const std::function<GraphPtr(int sm_version)>& describe) {
  static std::mutex mutex;
  static auto* cache = new std::map<GraphKey, GraphPtr>();
  std::lock_guard lock(mutex);
  GraphPtr& graph = (*cache)[key];
  if (!graph) {
    GraphPtr candidate = describe(device_sm_version(key.device));
    cudnnHandle_t handle = cudnn_handle(key.device);
    FT_CUDNN_FE_CHECK(candidate->validate());
    FT_CUDNN_FE_CHECK(candidate->build_operation_graph(handle));
    FT_CUDNN_FE_CHECK(candidate->create_execution_plans({fe::HeurMode_t::A}));
    FT_CUDNN_FE_CHECK(candidate->check_support());
    FT_CUDNN_FE_CHECK(candidate->build_plans(fe::BuildPlanPolicy_t::HEURISTICS_CHOICE));
    graph = std::move(candidate);
  }
  return *graph;
}

using VariantPack = std::unordered_map<int64_t, void*>;

// The workspace is a tensor from the device's caching allocator. The graph runs on
// the legacy default stream like every flowtrain kernel, so the block can go back
// to the cache as soon as the work is queued.
void execute(const Graph& graph, Device device, VariantPack& pack) {
  int64_t workspace_bytes = 0;
  FT_CUDNN_FE_CHECK(graph.get_workspace_size(workspace_bytes));
  Tensor workspace = Tensor::empty({std::max<int64_t>(workspace_bytes, 1)}, DType::u8, device);
  FT_CUDNN_FE_CHECK(graph.execute(cudnn_handle(device.index), pack, workspace.raw_data()));
}

uint64_t bits_of(double value) { return std::bit_cast<uint64_t>(value); }

// The frontend rejects misaligned strides but cannot see pointers: its kernels load
// 16 bytes at a time.
void* aligned_data(const Tensor& t, const char* what) {
  void* data = t.raw_data();
  FT_CHECK(reinterpret_cast<uintptr_t>(data) % 16 == 0, "cuDNN needs {} 16-byte aligned, got address {}", what,
           data);
  return data;
}

void check_attention_inputs(const Tensor& q, const Tensor& k, const Tensor& v) {
  FT_CHECK(q.dim() == 4, "cuDNN attention needs q [B,H,T,D], got {}", shape_str(q.shape()));
  FT_CHECK(q.shape() == k.shape() && q.shape() == v.shape(), "cuDNN attention q {}, k {}, v {} differ",
           shape_str(q.shape()), shape_str(k.shape()), shape_str(v.shape()));
  FT_CHECK(q.dtype() == DType::bf16 || q.dtype() == DType::f16, "cuDNN attention needs bf16 or f16 q, got {}",
           dtype_name(q.dtype()));
  FT_CHECK(k.dtype() == q.dtype() && v.dtype() == q.dtype(), "cuDNN attention q {}, k {}, v {} dtypes differ",
           dtype_name(q.dtype()), dtype_name(k.dtype()), dtype_name(v.dtype()));
  FT_CHECK(q.is_contiguous() && k.is_contiguous() && v.is_contiguous(), "cuDNN attention needs contiguous q, k, v");
  FT_CHECK(on_cuda(q), "cuDNN attention needs q on a GPU, got {}", q.device().str());
  check_same_device(q, k, "cuDNN attention");
  check_same_device(q, v, "cuDNN attention");
}

AttentionShape attention_shape(const Tensor& q) { return {q.size(0), q.size(1), q.size(2), q.size(3)}; }

GraphKey attention_key(GraphKind kind, const Tensor& q, double scale) {
  return {kind, q.shape(), q.dtype(), q.device().index, bits_of(scale), false};
}

// Rows of [.., C] and C, for the layer-norm graphs.
struct RowShape {
  int64_t rows, width;
};

RowShape row_shape(const Tensor& x) {
  FT_CHECK(x.dim() >= 1 && x.numel() > 0, "cuDNN layer norm needs a non-empty x, got {}", shape_str(x.shape()));
  const int64_t width = x.size(-1);
  return {x.numel() / width, width};
}

}  // namespace

Tensor cudnn_causal_attention(const Tensor& q, const Tensor& k, const Tensor& v, double scale, Tensor* logsumexp) {
  check_attention_inputs(q, k, v);
  const Device device = q.device();
  use_device(device);
  const AttentionShape shape = attention_shape(q);
  const Graph& graph = built_graph(attention_key(GraphKind::attention_forward, q, scale), [&](int sm_version) {
    return attention_forward_graph(shape, q.dtype(), scale, sm_version);
  });
  Tensor out = Tensor::empty(q.shape(), q.dtype(), device);
  Tensor lse = Tensor::empty({shape.batch, shape.heads, shape.tokens}, DType::f32, device);
  VariantPack pack{{kQ, aligned_data(q, "q")},     {kK, aligned_data(k, "k")},
                   {kV, aligned_data(v, "v")},     {kO, aligned_data(out, "the output")},
                   {kStats, aligned_data(lse, "the logsumexp")}};
  execute(graph, device, pack);
  if (logsumexp) *logsumexp = lse;
  return kernels::cast(out, DType::f32);
}

void cudnn_causal_attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                                     const Tensor& logsumexp, const Tensor& grad_out, double scale, Tensor* grad_q,
                                     Tensor* grad_k, Tensor* grad_v) {
  check_attention_inputs(q, k, v);
  const Device device = q.device();
  use_device(device);
  const AttentionShape shape = attention_shape(q);
  FT_CHECK(out.shape() == q.shape() && grad_out.shape() == q.shape(),
           "cuDNN attention backward: output {} and its gradient {} do not match q {}", shape_str(out.shape()),
           shape_str(grad_out.shape()), shape_str(q.shape()));
  FT_CHECK(logsumexp.shape() == Shape({shape.batch, shape.heads, shape.tokens}),
           "cuDNN attention backward: logsumexp {} does not match q {}", shape_str(logsumexp.shape()),
           shape_str(q.shape()));
  for (const Tensor* t : {&out, &logsumexp, &grad_out}) check_same_device(q, *t, "cuDNN attention backward");
  // The kernel takes O and dO in q's dtype, as PyTorch's autocast hands them over.
  Tensor o = dense_on_device(out, q.dtype());
  Tensor grad_o = dense_on_device(grad_out, q.dtype());
  Tensor stats = dense_on_device(logsumexp, DType::f32);
  const Graph& graph = built_graph(attention_key(GraphKind::attention_backward, q, scale), [&](int sm_version) {
    return attention_backward_graph(shape, q.dtype(), scale, sm_version);
  });
  Tensor gq = Tensor::empty(q.shape(), q.dtype(), device);
  Tensor gk = Tensor::empty(q.shape(), q.dtype(), device);
  Tensor gv = Tensor::empty(q.shape(), q.dtype(), device);
  VariantPack pack{{kQ, aligned_data(q, "q")},
                   {kK, aligned_data(k, "k")},
                   {kV, aligned_data(v, "v")},
                   {kO, aligned_data(o, "the output")},
                   {kGradO, aligned_data(grad_o, "the output's gradient")},
                   {kStats, aligned_data(stats, "the logsumexp")},
                   {kGradQ, aligned_data(gq, "grad_q")},
                   {kGradK, aligned_data(gk, "grad_k")},
                   {kGradV, aligned_data(gv, "grad_v")}};
  execute(graph, device, pack);
  if (grad_q) *grad_q = kernels::cast(gq, DType::f32);
  if (grad_k) *grad_k = kernels::cast(gk, DType::f32);
  if (grad_v) *grad_v = kernels::cast(gv, DType::f32);
}

Tensor cudnn_layer_norm(const Tensor& x_in, const Tensor& weight, const Tensor& bias, double eps, Tensor* mean,
                        Tensor* rstd) {
  FT_CHECK(x_in.dtype() == DType::f32, "cuDNN layer norm needs f32 x, got {}", dtype_name(x_in.dtype()));
  FT_CHECK(on_cuda(x_in), "cuDNN layer norm needs x on a GPU, got {}", x_in.device().str());
  FT_CHECK(weight.defined() == bias.defined(), "cuDNN layer norm needs weight and bias both or neither");
  const bool affine = weight.defined();
  const Device device = x_in.device();
  use_device(device);
  const RowShape shape = row_shape(x_in);
  Tensor x = dense_on_device(x_in, DType::f32);
  Tensor scale, shift;
  if (affine) {
    FT_CHECK(weight.numel() == shape.width && bias.numel() == shape.width,
             "cuDNN layer norm over {} channels got weight {} and bias {}", shape.width,
             shape_str(weight.shape()), shape_str(bias.shape()));
    check_same_device(x_in, weight, "cuDNN layer norm");
    check_same_device(x_in, bias, "cuDNN layer norm");
    scale = dense_on_device(weight, DType::f32);
    shift = dense_on_device(bias, DType::f32);
  }
  const GraphKey key{GraphKind::layer_norm_forward, {shape.rows, shape.width}, DType::f32, device.index,
                     bits_of(eps), affine};
  const Graph& graph = built_graph(key, [&](int sm_version) {
    return layer_norm_forward_graph(shape.rows, shape.width, affine, eps, sm_version);
  });
  Tensor y = Tensor::empty(x_in.shape(), DType::f32, device);
  Tensor row_mean = Tensor::empty({shape.rows}, DType::f32, device);
  Tensor row_rstd = Tensor::empty({shape.rows}, DType::f32, device);
  VariantPack pack{{kX, aligned_data(x, "x")},
                   {kY, aligned_data(y, "y")},
                   {kMean, aligned_data(row_mean, "the mean")},
                   {kInvVariance, aligned_data(row_rstd, "the rstd")}};
  if (affine) {
    pack.emplace(kScale, aligned_data(scale, "the weight"));
    pack.emplace(kBias, aligned_data(shift, "the bias"));
  }
  execute(graph, device, pack);
  if (mean) *mean = row_mean;
  if (rstd) *rstd = row_rstd;
  return y;
}

void cudnn_layer_norm_backward(const Tensor& grad_y_in, const Tensor& x_in, const Tensor& weight,
                               const Tensor& mean_in, const Tensor& rstd_in, Tensor* grad_x, Tensor* grad_weight,
                               Tensor* grad_bias) {
  FT_CHECK(x_in.dtype() == DType::f32, "cuDNN layer norm backward needs f32 x, got {}", dtype_name(x_in.dtype()));
  FT_CHECK(on_cuda(x_in), "cuDNN layer norm backward needs x on a GPU, got {}", x_in.device().str());
  FT_CHECK(grad_y_in.shape() == x_in.shape(), "cuDNN layer norm backward: gradient {} does not match x {}",
           shape_str(grad_y_in.shape()), shape_str(x_in.shape()));
  const bool affine = weight.defined();
  const Device device = x_in.device();
  use_device(device);
  const RowShape shape = row_shape(x_in);
  FT_CHECK(mean_in.numel() == shape.rows && rstd_in.numel() == shape.rows,
           "cuDNN layer norm backward over {} rows got mean {} and rstd {}", shape.rows, shape_str(mean_in.shape()),
           shape_str(rstd_in.shape()));
  for (const Tensor* t : {&grad_y_in, &mean_in, &rstd_in}) check_same_device(x_in, *t, "cuDNN layer norm backward");
  Tensor grad_y = dense_on_device(grad_y_in, DType::f32), x = dense_on_device(x_in, DType::f32);
  Tensor mean = dense_on_device(mean_in, DType::f32), rstd = dense_on_device(rstd_in, DType::f32);
  const GraphKey key{GraphKind::layer_norm_backward, {shape.rows, shape.width}, DType::f32, device.index, 0, affine};
  const Graph& graph = built_graph(
      key, [&](int sm_version) { return layer_norm_backward_graph(shape.rows, shape.width, affine, sm_version); });
  Tensor gx = Tensor::empty(x_in.shape(), DType::f32, device);
  VariantPack pack{{kGradY, aligned_data(grad_y, "grad_y")},
                   {kX, aligned_data(x, "x")},
                   {kMean, aligned_data(mean, "the mean")},
                   {kInvVariance, aligned_data(rstd, "the rstd")},
                   {kGradX, aligned_data(gx, "grad_x")}};
  Tensor scale, gw, gb;
  if (affine) {
    FT_CHECK(weight.numel() == shape.width, "cuDNN layer norm backward over {} channels got weight {}", shape.width,
             shape_str(weight.shape()));
    check_same_device(x_in, weight, "cuDNN layer norm backward");
    scale = dense_on_device(weight, DType::f32);
    gw = Tensor::empty(weight.shape(), DType::f32, device);
    gb = Tensor::empty(weight.shape(), DType::f32, device);
    pack.emplace(kScale, aligned_data(scale, "the weight"));
    pack.emplace(kGradScale, aligned_data(gw, "grad_weight"));
    pack.emplace(kGradBias, aligned_data(gb, "grad_bias"));
  }
  execute(graph, device, pack);
  if (grad_x) *grad_x = gx;
  if (grad_weight) *grad_weight = gw;
  if (grad_bias) *grad_bias = gb;
}

namespace {

// The frontend's verdict on one graph for the target GPU, as an ft::Error naming it.
void validate_graph(const std::string& what, const std::function<GraphPtr()>& describe) {
  try {
    FT_CUDNN_FE_CHECK(describe()->validate());
  } catch (const Error& invalid) {
    FT_FAIL("cuDNN graph {} is invalid: {}", what, invalid.what());
  }
}

}  // namespace

// Validation stops after Graph::validate(): lowering (build_operation_graph)
// finalizes backend descriptors against a cudnnHandle_t or a DeviceProperties
// descriptor, and both come from a real device (DeviceProperties::build reads
// one; its deserialize() takes JSON that a device serialized). So the shapes,
// dtypes, strides, alignment and SDPA support surface (head dim, sm_90 rules,
// cuDNN version) are checked; engine heuristics and plan support are not.
void validate_attention_graphs(const AttentionShape& shape, DType dtype, int sm_version) {
  const double scale = 1.0 / std::sqrt(double(shape.head_dim));
  const std::string what = fmt::format("for q [{}, {}, {}, {}] {} on sm_{}", shape.batch, shape.heads, shape.tokens,
                                       shape.head_dim, dtype_name(dtype), sm_version);
  validate_graph("causal attention forward " + what,
                 [&] { return attention_forward_graph(shape, dtype, scale, sm_version); });
  validate_graph("causal attention backward " + what,
                 [&] { return attention_backward_graph(shape, dtype, scale, sm_version); });
}

void validate_layer_norm_graphs(int64_t rows, int64_t width, int sm_version) {
  const std::string what = fmt::format("for x [{}, {}] f32 on sm_{}", rows, width, sm_version);
  validate_graph("layer norm forward " + what,
                 [&] { return layer_norm_forward_graph(rows, width, true, 1e-5, sm_version); });
  validate_graph("layer norm backward " + what,
                 [&] { return layer_norm_backward_graph(rows, width, true, sm_version); });
}

}  // namespace ft::kernels::cuda
