// Plain (unfused) scaled-dot-product attention on the GPU, the reference path for
// f32 and f64: the products are batched GEMMs over [B, H] (matmul_cublaslt.cpp)
// and one masked-softmax kernel normalises the scores and writes the log-sum-exp.
// The whole [T, T] score matrix of every head exists at once. Backward recomputes
// the probabilities from the saved log-sum-exp, as the CPU does, and forms
// dS = P * (dP - rowsum(dO * O)) * scale.
#include <cuda_runtime.h>

#include <cmath>
#include <type_traits>

#include "framework/kernels/cuda/cuda_check.h"
#include "framework/kernels/cuda/cuda_device.h"
#include "framework/kernels/cuda/cudnn_graphs.h"
#include "framework/kernels/cuda/cuda_launch.cuh"
#include "framework/kernels/cuda/kernels_cuda.h"
#include "framework/kernels/dispatch.h"

namespace ft::kernels::cuda {

namespace {

// The larger of a and b, as the CPU's row maximum picks it (kernels::max shadows ::max here).
template <class T>
__device__ __forceinline__ T larger(T a, T b) {
  return b > a ? b : a;
}

// Max of v over the block, as block_sum (cuda_launch.cuh) sums.
template <class T>
__device__ __forceinline__ T block_max(T v) {
  __shared__ T warp_maxima[kThreads / 32];
  const int lane = int(threadIdx.x) % 32;
  const int warp = int(threadIdx.x) / 32;
  for (int shift = 16; shift > 0; shift >>= 1) v = larger(v, __shfl_down_sync(0xffffffffu, v, shift));
  if (lane == 0) warp_maxima[warp] = v;
  __syncthreads();
  T total = warp_maxima[0];
#pragma unroll
  for (int w = 1; w < kThreads / 32; ++w) total = larger(total, warp_maxima[w]);
  __syncthreads();
  return total;
}

// Row r of the scores [rows, cols] is query r % queries at position past + r % queries:
// it sees keys 0..past + r % queries.
__device__ __forceinline__ int64_t keys_seen(int64_t row, int64_t queries, int64_t past) {
  return past + row % queries + 1;
}

// In place: scores -> probabilities of softmax(scale * scores) over the keys each
// row sees, zeros past them; lse[r] (when given) = log sum exp of the row. One
// block per row (grid-stride over rows); the sum accumulates in f64 as on the CPU.
template <class T>
__global__ void masked_softmax_kernel(T* scores, T* lse, int64_t rows, int64_t cols, int64_t queries, int64_t past,
                                      T scale) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    T* row = scores + r * cols;
    const int64_t seen = keys_seen(r, queries, past);
    T local_max = T(-INFINITY);
    for (int64_t j = threadIdx.x; j < seen; j += blockDim.x) local_max = larger(local_max, row[j] * scale);
    const T row_max = block_max(local_max);
    double local_sum = 0.0;
    for (int64_t j = threadIdx.x; j < seen; j += blockDim.x) {
      const T e = exp(row[j] * scale - row_max);
      row[j] = e;
      local_sum += double(e);
    }
    const double sum = block_sum(local_sum);
    const T inverse = T(1.0 / sum);
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) row[j] = j < seen ? row[j] * inverse : T(0);
    if (lse != nullptr && threadIdx.x == 0) lse[r] = T(double(row_max) + log(sum));
  }
}

// In place: scores [rows, t] -> P = exp(scale * scores - lse[row]), causal.
template <class T>
__global__ void probabilities_kernel(T* scores, const T* lse, int64_t rows, int64_t t, T scale) {
  const int64_t n = rows * t;
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    const int64_t r = i / t, j = i % t;
    scores[i] = j < keys_seen(r, t, 0) ? exp(scores[i] * scale - lse[r]) : T(0);
  }
}

// In place: dP [rows, t] -> dS = P * (dP - row_dot[row]) * scale, causal.
template <class T>
__global__ void softmax_gradient_kernel(T* grad, const T* probs, const T* row_dot, int64_t rows, int64_t t,
                                        T scale) {
  const int64_t n = rows * t;
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    const int64_t r = i / t, j = i % t;
    grad[i] = j < keys_seen(r, t, 0) ? probs[i] * (grad[i] - row_dot[r]) * scale : T(0);
  }
}

// scores [B, H, queries, cols] (dense, from the GEMM) -> probabilities; lse [B, H, queries] when defined.
void masked_softmax(Tensor& scores, Tensor* lse, int64_t past, double scale) {
  if (scores.numel() == 0) return;
  const int64_t cols = scores.size(-1), queries = scores.size(-2);
  const int64_t rows = scores.numel() / cols;
  const unsigned blocks = unsigned(std::min(rows, kMaxBlocks));
  dispatch_dtype(scores.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      masked_softmax_kernel<T><<<blocks, kThreads, 0, 0>>>(typed<T>(scores), lse ? typed<T>(*lse) : nullptr, rows,
                                                           cols, queries, past, T(scale));
      FT_CUDA_CHECK_LAUNCH();
    }
  });
}

// lse in q's dtype, dense, of shape [B, H, T].
Tensor checked_logsumexp(const Tensor& logsumexp, const Tensor& q) {
  const Shape want{q.size(0), q.size(1), q.size(2)};
  FT_CHECK(logsumexp.shape() == want, "attention backward: logsumexp {} for q {}", shape_str(logsumexp.shape()),
           shape_str(q.shape()));
  return dense_on_device(logsumexp, q.dtype());
}

}  // namespace

Tensor causal_attention(const Tensor& q, const Tensor& k, const Tensor& v, double scale, Tensor* logsumexp) {
  check_attention_inputs(q, k, v);
  check_same_device(q, k, "causal_attention");
  check_same_device(q, v, "causal_attention");
  use_device(q.device());
  Tensor lse = Tensor::empty({q.size(0), q.size(1), q.size(2)}, q.dtype(), q.device());
  Tensor probs = matmul(q, k, false, true);  // [B, H, T, T], unscaled scores
  masked_softmax(probs, &lse, 0, scale);
  Tensor out = matmul(probs, v);
  if (logsumexp) *logsumexp = lse;
  return out;
}

void causal_attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                               const Tensor& logsumexp, const Tensor& grad_out_in, double scale, Tensor* grad_q,
                               Tensor* grad_k, Tensor* grad_v) {
  check_attention_inputs(q, k, v);
  FT_CHECK(out.shape() == q.shape() && grad_out_in.shape() == q.shape(),
           "attention backward: out {} and grad_out {} for q {}", shape_str(out.shape()),
           shape_str(grad_out_in.shape()), shape_str(q.shape()));
  use_device(q.device());
  const Tensor lse = checked_logsumexp(logsumexp, q);
  const Tensor grad_out = dense_on_device(grad_out_in, q.dtype());
  const int64_t rows = q.size(0) * q.size(1) * q.size(2), t = q.size(2);
  Tensor probs = matmul(q, k, false, true);
  Tensor grad_scores = matmul(grad_out, v, false, true);  // dP
  const Tensor row_dot = sum_last_dim(binary(BinaryOp::mul, grad_out, dense_on_device(out, q.dtype())));
  const int64_t n = rows * t;
  if (n > 0) {
    dispatch_dtype(q.dtype(), [&](auto tag) {
      using T = decltype(tag);
      if constexpr (std::is_floating_point_v<T>) {
        probabilities_kernel<T><<<grid_for(n), kThreads, 0, 0>>>(typed<T>(probs), typed<T>(lse), rows, t, T(scale));
        FT_CUDA_CHECK_LAUNCH();
        softmax_gradient_kernel<T><<<grid_for(n), kThreads, 0, 0>>>(typed<T>(grad_scores), typed<T>(probs),
                                                                    typed<T>(row_dot), rows, t, T(scale));
        FT_CUDA_CHECK_LAUNCH();
      }
    });
  }
  if (grad_v) *grad_v = matmul(probs, grad_out, true, false);
  if (grad_q) *grad_q = matmul(grad_scores, k);
  if (grad_k) *grad_k = matmul(grad_scores, q, true, false);
}

Tensor cached_attention(const Tensor& q_in, const Tensor& k_cache, const Tensor& v_cache, int64_t past,
                        double scale) {
  check_float(q_in, "cached attention");
  check_same_device(q_in, k_cache, "cached_attention");
  check_same_device(q_in, v_cache, "cached_attention");
  const Tensor q = dense_on_device(q_in, q_in.dtype());
  check_cached_attention_inputs(q, k_cache, v_cache, past);
  use_device(q.device());
  const int64_t keys = past + q.size(2);
  Tensor probs = matmul(q, k_cache.slice(2, 0, keys), false, true);  // [B, H, Tq, past + Tq]
  masked_softmax(probs, nullptr, past, scale);
  return matmul(probs, v_cache.slice(2, 0, keys));
}

namespace {

// bf16/f16 q, k, v take cuDNN's fused attention (cudnn_graphs.h); f32 and f64 the
// GEMM + masked-softmax path above, which is also the fused one's reference.
bool is_half(DType dtype) { return dtype == DType::bf16 || dtype == DType::f16; }

// Both paths take dense q, k, v; the CPU kernel also reads heads-first views in place.
Tensor dense(const Tensor& t) { return dense_on_device(t, t.dtype()); }

Tensor routed_causal_attention(const Tensor& q_in, const Tensor& k_in, const Tensor& v_in, double scale,
                               Tensor* logsumexp) {
  const Tensor q = dense(q_in), k = dense(k_in), v = dense(v_in);
  if (is_half(q.dtype())) return cudnn_causal_attention(q, k, v, scale, logsumexp);
  return causal_attention(q, k, v, scale, logsumexp);
}

void routed_causal_attention_backward(const Tensor& q_in, const Tensor& k_in, const Tensor& v_in, const Tensor& out,
                                      const Tensor& logsumexp, const Tensor& grad_out, double scale, Tensor* grad_q,
                                      Tensor* grad_k, Tensor* grad_v) {
  const Tensor q = dense(q_in), k = dense(k_in), v = dense(v_in);
  if (is_half(q.dtype()))
    return cudnn_causal_attention_backward(q, k, v, out, logsumexp, grad_out, scale, grad_q, grad_k, grad_v);
  causal_attention_backward(q, k, v, out, logsumexp, grad_out, scale, grad_q, grad_k, grad_v);
}

}  // namespace

void register_attention(KernelTable& table) {
  table.causal_attention.add(DeviceKind::cuda, routed_causal_attention, kFloating);
  table.causal_attention_backward.add(DeviceKind::cuda, routed_causal_attention_backward, kFloating);
  table.cached_attention.add(DeviceKind::cuda, cached_attention, kFloat32And64);
}

}  // namespace ft::kernels::cuda
