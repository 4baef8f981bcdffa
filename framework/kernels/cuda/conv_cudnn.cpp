// 2-D convolution on the GPU through cuDNN (NCHW, stride 1, zero padding). f32 and
// f64 run in their own precision on FMA kernels only (CUDNN_FMA_MATH: no TF32),
// GEMM-like algorithms (no FFT).
// bf16/f16 inputs run on the f32 kernels over their exact f32 values, as on CPUs
// without oneDNN's bf16 kernels: cuDNN's half convolutions write the output in the
// input dtype, one rounding more than the f32 kernels.h promises. Algorithms come
// from cuDNN's heuristics (no benchmarking); the workspace from the caching
// allocator.
#include <cudnn.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "framework/kernels/cuda/cuda_check.h"
#include "framework/kernels/cuda/cuda_device.h"
#include "framework/kernels/cuda/cudnn_handle.h"
#include "framework/kernels/cuda/kernels_cuda.h"
#include "framework/kernels/dispatch.h"
#include "framework/kernels/kernel_shapes.h"

namespace ft::kernels::cuda {

namespace {

struct TensorDescDeleter {
  void operator()(cudnnTensorStruct* d) const { (void)cudnnDestroyTensorDescriptor(d); }
};
struct FilterDescDeleter {
  void operator()(cudnnFilterStruct* d) const { (void)cudnnDestroyFilterDescriptor(d); }
};
struct ConvDescDeleter {
  void operator()(cudnnConvolutionStruct* d) const { (void)cudnnDestroyConvolutionDescriptor(d); }
};
using TensorDesc = std::unique_ptr<cudnnTensorStruct, TensorDescDeleter>;
using FilterDesc = std::unique_ptr<cudnnFilterStruct, FilterDescDeleter>;
using ConvDesc = std::unique_ptr<cudnnConvolutionStruct, ConvDescDeleter>;

// cuDNN's legacy descriptors take int sizes and int element strides.
int checked_int(int64_t value, const char* what) {
  FT_CHECK(value >= 0 && value <= int64_t(INT32_MAX), "conv2d {} {} does not fit cuDNN's 32-bit int", what, value);
  return int(value);
}

TensorDesc nchw_desc(cudnnDataType_t type, int64_t n, int64_t c, int64_t h, int64_t w) {
  checked_int(n * c * h * w, "tensor size");
  cudnnTensorDescriptor_t raw = nullptr;
  FT_CUDNN_CHECK(cudnnCreateTensorDescriptor(&raw));
  TensorDesc desc(raw);
  FT_CUDNN_CHECK(cudnnSetTensor4dDescriptor(desc.get(), CUDNN_TENSOR_NCHW, type, checked_int(n, "batch"),
                                            checked_int(c, "channels"), checked_int(h, "height"),
                                            checked_int(w, "width")));
  return desc;
}

// The problem's descriptors: x, weight, y (and their gradients, which share them).
struct ConvProblem {
  DType dtype;  // f32 or f64, of every tensor
  TensorDesc x, y;
  FilterDesc weight;
  ConvDesc conv;
};

ConvProblem problem_of(const ConvGeometry& g, DType dtype) {
  const cudnnDataType_t type = dtype == DType::f64 ? CUDNN_DATA_DOUBLE : CUDNN_DATA_FLOAT;
  ConvProblem p{dtype, nchw_desc(type, g.n, g.c, g.h, g.w), nchw_desc(type, g.n, g.o, g.ho, g.wo), nullptr, nullptr};
  checked_int(g.o * g.c * g.kh * g.kw, "weight size");
  cudnnFilterDescriptor_t filter = nullptr;
  FT_CUDNN_CHECK(cudnnCreateFilterDescriptor(&filter));
  p.weight.reset(filter);
  FT_CUDNN_CHECK(cudnnSetFilter4dDescriptor(p.weight.get(), type, CUDNN_TENSOR_NCHW, checked_int(g.o, "outputs"),
                                            checked_int(g.c, "channels"), checked_int(g.kh, "kernel height"),
                                            checked_int(g.kw, "kernel width")));
  cudnnConvolutionDescriptor_t conv = nullptr;
  FT_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&conv));
  p.conv.reset(conv);
  const int pad = checked_int(g.pad, "padding");
  FT_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(p.conv.get(), pad, pad, 1, 1, 1, 1, CUDNN_CROSS_CORRELATION, type));
  FT_CUDNN_CHECK(cudnnSetConvolutionMathType(p.conv.get(), CUDNN_FMA_MATH));
  return p;
}

// Algorithms whose transforms add rounding beyond the GEMM-like ones (FFT, and
// Winograd on large tiles) would spend f32's 1e-5 budget against the CPU.
bool keeps_precision(cudnnConvolutionFwdAlgo_t algo) {
  return algo != CUDNN_CONVOLUTION_FWD_ALGO_FFT && algo != CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING &&
         algo != CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED;
}
bool keeps_precision(cudnnConvolutionBwdDataAlgo_t algo) {
  return algo != CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT && algo != CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING &&
         algo != CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED;
}
bool keeps_precision(cudnnConvolutionBwdFilterAlgo_t algo) {
  return algo != CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT && algo != CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING &&
         algo != CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED;
}

// The first algorithm of cuDNN's heuristic ranking that runs without tensor-op
// (TF32 or down-converting) math, which the descriptor's CUDNN_FMA_MATH holds it
// to, and keeps precision.
template <class Perf>
auto first_fma_algorithm(const std::vector<Perf>& ranked, int returned, const char* direction) {
  for (int i = 0; i < returned; ++i) {
    const Perf& perf = ranked[size_t(i)];
    const bool tensor_op =
        perf.mathType == CUDNN_TENSOR_OP_MATH || perf.mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
    if (perf.status == CUDNN_STATUS_SUCCESS && !tensor_op && keeps_precision(perf.algo)) return perf.algo;
  }
  FT_FAIL("cuDNN offers no FMA algorithm for the conv2d {} ({} candidates)", direction, returned);
}

// Freed at the end of the call: the caching allocator hands it out again only to
// work queued after the convolution on the same stream.
Tensor workspace_of(size_t bytes, Device device) {
  return bytes > 0 ? Tensor::empty({int64_t(bytes)}, DType::u8, device) : Tensor();
}

void* pointer_of(const Tensor& workspace) { return workspace.defined() ? workspace.raw_data() : nullptr; }

// alpha 1 and beta 0 in the precision of the problem (float for f32, double for f64).
struct Scalars {
  float one32 = 1.0f, zero32 = 0.0f;
  double one64 = 1.0, zero64 = 0.0;
  const void* one(DType dtype) const { return dtype == DType::f64 ? static_cast<const void*>(&one64) : &one32; }
  const void* zero(DType dtype) const { return dtype == DType::f64 ? static_cast<const void*>(&zero64) : &zero32; }
};

// f64 when either input is; f32 otherwise (bf16/f16 included: see the file comment).
DType compute_dtype(const Tensor& x, const Tensor& weight) {
  return x.dtype() == DType::f64 || weight.dtype() == DType::f64 ? DType::f64 : DType::f32;
}

}  // namespace

Tensor conv2d(const Tensor& x_in, const Tensor& weight_in, int64_t padding) {
  check_same_device(x_in, weight_in, "conv2d");
  const ConvGeometry g = plan_conv2d(x_in.shape(), weight_in.shape(), padding);
  const DType dtype = compute_dtype(x_in, weight_in);
  use_device(x_in.device());
  const Tensor x = dense_on_device(x_in, dtype), weight = dense_on_device(weight_in, dtype);
  Tensor y = Tensor::empty({g.n, g.o, g.ho, g.wo}, dtype, x.device());
  if (y.numel() == 0) return y;
  if (x.numel() == 0 || weight.numel() == 0) {
    fill(y, 0.0);
    return y;
  }
  const ConvProblem p = problem_of(g, dtype);
  cudnnHandle_t handle = cudnn_handle(x.device().index);
  std::vector<cudnnConvolutionFwdAlgoPerf_t> ranked(CUDNN_CONVOLUTION_FWD_ALGO_COUNT);
  int returned = 0;
  FT_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(handle, p.x.get(), p.weight.get(), p.conv.get(), p.y.get(),
                                                        int(ranked.size()), &returned, ranked.data()));
  const cudnnConvolutionFwdAlgo_t algo = first_fma_algorithm(ranked, returned, "forward");
  size_t bytes = 0;
  FT_CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(handle, p.x.get(), p.weight.get(), p.conv.get(), p.y.get(),
                                                         algo, &bytes));
  const Tensor workspace = workspace_of(bytes, x.device());
  const Scalars s;
  FT_CUDNN_CHECK(cudnnConvolutionForward(handle, s.one(dtype), p.x.get(), x.raw_data(), p.weight.get(),
                                         weight.raw_data(), p.conv.get(), algo, pointer_of(workspace), bytes,
                                         s.zero(dtype), p.y.get(), y.raw_data()));
  return y;
}

void conv2d_backward(const Tensor& x_in, const Tensor& weight_in, const Tensor& grad_y, int64_t padding,
                     Tensor* grad_x, Tensor* grad_weight) {
  check_same_device(x_in, weight_in, "conv2d_backward");
  check_same_device(x_in, grad_y, "conv2d_backward");
  const ConvGeometry g = plan_conv2d(x_in.shape(), weight_in.shape(), padding);
  FT_CHECK(grad_y.shape() == Shape({g.n, g.o, g.ho, g.wo}), "conv2d_backward grad_y {} for an output {}",
           shape_str(grad_y.shape()), shape_str(Shape({g.n, g.o, g.ho, g.wo})));
  const DType dtype = compute_dtype(x_in, weight_in);
  use_device(x_in.device());
  const bool bf16_pair = x_in.dtype() == DType::bf16 && weight_in.dtype() == DType::bf16;
  // bf16 pairs take grad_y rounded to bf16 (kernels.h), as the CPU does.
  const Tensor gy = dense_on_device(bf16_pair ? dense_on_device(grad_y, DType::bf16) : grad_y, dtype);
  if (grad_x) *grad_x = Tensor::empty(x_in.shape(), dtype, x_in.device());
  if (grad_weight) *grad_weight = Tensor::empty(weight_in.shape(), dtype, x_in.device());
  if (gy.numel() == 0 || x_in.numel() == 0 || weight_in.numel() == 0) {
    if (grad_x) fill(*grad_x, 0.0);
    if (grad_weight) fill(*grad_weight, 0.0);
    return;
  }
  const ConvProblem p = problem_of(g, dtype);
  cudnnHandle_t handle = cudnn_handle(x_in.device().index);
  const Scalars s;
  if (grad_x) {
    const Tensor weight = dense_on_device(weight_in, dtype);
    std::vector<cudnnConvolutionBwdDataAlgoPerf_t> ranked(CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT);
    int returned = 0;
    FT_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(handle, p.weight.get(), p.y.get(), p.conv.get(),
                                                               p.x.get(), int(ranked.size()), &returned,
                                                               ranked.data()));
    const cudnnConvolutionBwdDataAlgo_t algo = first_fma_algorithm(ranked, returned, "data gradient");
    size_t bytes = 0;
    FT_CUDNN_CHECK(cudnnGetConvolutionBackwardDataWorkspaceSize(handle, p.weight.get(), p.y.get(), p.conv.get(),
                                                                p.x.get(), algo, &bytes));
    const Tensor workspace = workspace_of(bytes, x_in.device());
    FT_CUDNN_CHECK(cudnnConvolutionBackwardData(handle, s.one(dtype), p.weight.get(), weight.raw_data(), p.y.get(),
                                                gy.raw_data(), p.conv.get(), algo, pointer_of(workspace), bytes,
                                                s.zero(dtype), p.x.get(), grad_x->raw_data()));
  }
  if (grad_weight) {
    const Tensor x = dense_on_device(x_in, dtype);
    std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> ranked(CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT);
    int returned = 0;
    FT_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(handle, p.x.get(), p.y.get(), p.conv.get(),
                                                                 p.weight.get(), int(ranked.size()), &returned,
                                                                 ranked.data()));
    const cudnnConvolutionBwdFilterAlgo_t algo = first_fma_algorithm(ranked, returned, "weight gradient");
    size_t bytes = 0;
    FT_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterWorkspaceSize(handle, p.x.get(), p.y.get(), p.conv.get(),
                                                                  p.weight.get(), algo, &bytes));
    const Tensor workspace = workspace_of(bytes, x_in.device());
    FT_CUDNN_CHECK(cudnnConvolutionBackwardFilter(handle, s.one(dtype), p.x.get(), x.raw_data(), p.y.get(),
                                                  gy.raw_data(), p.conv.get(), algo, pointer_of(workspace), bytes,
                                                  s.zero(dtype), p.weight.get(), grad_weight->raw_data()));
  }
}

void register_conv(KernelTable& table) {
  table.conv2d.add(DeviceKind::cuda, conv2d, kFloating);
  table.conv2d_backward.add(DeviceKind::cuda, conv2d_backward, kFloating);
}

}  // namespace ft::kernels::cuda
