// Causal scaled-dot-product attention, fused per (batch, head): scores, mask,
// softmax and the value product run in per-thread scratch, so the [T, T] matrix
// of one head at a time is all that exists. Backward recomputes probabilities
// from the saved log-sum-exp.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "framework/kernels/cpu/blas.h"
#include "framework/kernels/cpu/matmul_onednn.h"
#include "framework/kernels/cpu/vector_loops.h"
#include "framework/kernels/dispatch.h"
#include "framework/kernels/kernel_shapes.h"
#include "framework/kernels/kernels.h"

namespace ft::kernels::cpu {

namespace {

// Softmax of row i over its first i+1 entries in place, with zeros past the diagonal.
template <class T>
void causal_softmax_rows(T* s, int64_t t, T* lse) {
  for (int64_t i = 0; i < t; ++i) {
    T* row = s + i * t;
    T m = row[0];
    for (int64_t j = 1; j <= i; ++j) m = row[j] > m ? row[j] : m;
    double sum = 0.0;
    for (int64_t j = 0; j <= i; ++j) {
      row[j] = std::exp(row[j] - m);
      sum += double(row[j]);
    }
    T inv = T(1.0 / sum);
    for (int64_t j = 0; j <= i; ++j) row[j] *= inv;
    for (int64_t j = i + 1; j < t; ++j) row[j] = T(0);
    lse[i] = T(double(m) + std::log(sum));
  }
}

// The rows of one (batch, head) of a [B, H, T, D] tensor with unit stride on D: dense
// or a heads-first view of a packed [B, T, 3, H, D] projection, read in place.
template <class T>
struct HeadRows {
  explicit HeadRows(const Tensor& t)
      : data(t.data<T>()), heads(t.size(1)), batch_stride(t.strides()[0]), head_stride(t.strides()[1]),
        ld(t.size(2) == 1 ? t.size(3) : t.strides()[2]) {}
  const T* operator()(int64_t bh) const { return data + (bh / heads) * batch_stride + (bh % heads) * head_stride; }
  const T* data;
  int64_t heads, batch_stride, head_stride, ld;
};

// x itself when BLAS can read its rows in place (unit stride on D, rows apart by at
// least D), else a dense copy.
Tensor readable_rows(const Tensor& x) {
  if (x.dim() != 4 || x.is_contiguous()) return x;
  const bool in_place = x.strides()[3] == 1 && (x.size(2) == 1 || x.strides()[2] >= x.size(3));
  return in_place ? x : copy(x);
}

// bf16 q, k, v run as PyTorch's autocast runs attention, where oneDNN has bf16
// kernels: batched bf16 products over every head at once, the [B, H, T, T] scores and
// their softmax in f32, and the probabilities (backward: also grad_out and the score
// gradient) rounded to bf16 for the products that take them; the output and the
// gradients are bf16, as cuDNN's. Elsewhere half inputs are widened, take the f32
// kernel, and get their results rounded back.
bool takes_bf16_products(const Tensor& q, const Tensor& k, const Tensor& v) {
  return q.dtype() == DType::bf16 && k.dtype() == DType::bf16 && v.dtype() == DType::bf16 &&
         onednn_matmul_supports(q, k);
}

// f32 scores [B, H, T, T] in place: scaled, masked and softmaxed per row, with the
// rows' log-sum-exps written to lse (forward).
void causal_softmax_scaled(Tensor& scores, double scale, float* lse) {
  const int64_t t = scores.size(-1), heads = scores.numel() / std::max<int64_t>(t * t, 1);
  float* s = scores.data<float>();
#pragma omp parallel for schedule(static) if (heads > 1)
  for (int64_t bh = 0; bh < heads; ++bh) {
    float* block = s + bh * t * t;
    for (int64_t i = 0; i < t; ++i)
      for (int64_t j = 0; j <= i; ++j) block[i * t + j] *= float(scale);
    causal_softmax_rows(block, t, lse + bh * t);
  }
}

// The same probabilities again from the saved log-sum-exps (backward).
void causal_probabilities(Tensor& scores, double scale, const float* lse) {
  const int64_t t = scores.size(-1), rows = scores.numel() / std::max<int64_t>(t, 1);
  float* s = scores.data<float>();
#pragma omp parallel for schedule(static) if (rows * t >= 16384)
  for (int64_t r = 0; r < rows; ++r) {
    float* row = s + r * t;
    const int64_t i = r % t;
    for (int64_t j = 0; j <= i; ++j) row[j] = std::exp(row[j] * float(scale) - lse[r]);
    for (int64_t j = i + 1; j < t; ++j) row[j] = 0.0f;
  }
}

// A result computed in f32 for half inputs, rounded back to their dtype.
Tensor in_dtype_of(const Tensor& result, const Tensor& input) {
  return result.dtype() == input.dtype() ? result : cast(result, input.dtype());
}

// t as a dense tensor of dtype (itself when it already is one).
Tensor dense_in(const Tensor& t, DType dtype) {
  if (t.dtype() != dtype) return cast(t, dtype);
  return t.is_contiguous() ? t : copy(t);
}

Tensor bf16_causal_attention(const Tensor& q, const Tensor& k, const Tensor& v, double scale, Tensor* logsumexp) {
  Tensor probs = onednn_matmul(q, k, false, true);
  Tensor lse = Tensor::empty({q.size(0), q.size(1), q.size(2)}, DType::f32, q.device());
  causal_softmax_scaled(probs, scale, lse.data<float>());
  Tensor out = onednn_matmul(cast(probs, DType::bf16), v, false, false, Tensor(), DType::bf16);
  if (logsumexp) *logsumexp = lse;
  return out;
}

void bf16_causal_attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                                    const Tensor& logsumexp, const Tensor& grad_out, double scale, Tensor* grad_q,
                                    Tensor* grad_k, Tensor* grad_v) {
  const int64_t t = q.size(2), d = q.size(3), rows = q.size(0) * q.size(1) * t;
  Tensor probs = onednn_matmul(q, k, false, true);
  const Tensor lse = dense_in(logsumexp, DType::f32);
  causal_probabilities(probs, scale, lse.data<float>());
  const Tensor g = dense_in(grad_out, DType::f32), g_low = dense_in(grad_out, DType::bf16);
  if (grad_v) *grad_v = onednn_matmul(cast(probs, DType::bf16), g_low, true, false, Tensor(), DType::bf16);
  // dS = P * (dP - rowsum(dO * O)) * scale, in place of dP = dO V^T
  Tensor ds = onednn_matmul(g_low, v, false, true);
  const Tensor o = dense_in(out, DType::f32);
  const float *pg = g.data<float>(), *po = o.data<float>(), *pp = probs.data<float>();
  float* pds = ds.data<float>();
#pragma omp parallel for schedule(static) if (rows * t >= 16384)
  for (int64_t r = 0; r < rows; ++r) {
    double dot = 0.0;
    for (int64_t c = 0; c < d; ++c) dot += double(pg[r * d + c]) * double(po[r * d + c]);
    const int64_t i = r % t;
    float* row = pds + r * t;
    const float* p = pp + r * t;
    for (int64_t j = 0; j < t; ++j) row[j] = j <= i ? p[j] * (row[j] - float(dot)) * float(scale) : 0.0f;
  }
  const Tensor ds_low = cast(ds, DType::bf16);
  if (grad_q) *grad_q = onednn_matmul(ds_low, k, false, false, Tensor(), DType::bf16);
  if (grad_k) *grad_k = onednn_matmul(ds_low, q, true, false, Tensor(), DType::bf16);
}

}  // namespace

Tensor causal_attention(const Tensor& q_in, const Tensor& k_in, const Tensor& v_in, double scale,
                        Tensor* logsumexp) {
  if (takes_bf16_products(q_in, k_in, v_in)) {
    check_attention_shapes(q_in, k_in, v_in);
    return bf16_causal_attention(q_in, k_in, v_in, scale, logsumexp);
  }
  Tensor q = readable_rows(upcast_half(q_in)), k = readable_rows(upcast_half(k_in)),
         v = readable_rows(upcast_half(v_in));
  check_attention_inputs(q, k, v);
  int64_t b = q.size(0), h = q.size(1), t = q.size(2), d = q.size(3);
  Tensor out = Tensor::empty(q.shape(), q.dtype(), q.device());
  Tensor lse = Tensor::empty({b, h, t}, q.dtype(), q.device());
  dispatch_dtype(q.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      const HeadRows<T> hq(q), hk(k), hv(v);
      T* po = out.data<T>();
      T* pl = lse.data<T>();
#pragma omp parallel
      {
        std::vector<T> scores(size_t(t * t));
#pragma omp for schedule(static)
        for (int64_t bh = 0; bh < b * h; ++bh) {
          const int64_t base = bh * t * d;
          gemm<T>(false, true, t, t, d, T(scale), hq(bh), hq.ld, hk(bh), hk.ld, T(0), scores.data(), t);
          causal_softmax_rows(scores.data(), t, pl + bh * t);
          gemm<T>(false, false, t, d, t, T(1), scores.data(), t, hv(bh), hv.ld, T(0), po + base, d);
        }
      }
    }
  });
  if (logsumexp) *logsumexp = lse;
  return in_dtype_of(out, q_in);
}

void causal_attention_backward(const Tensor& q_in, const Tensor& k_in, const Tensor& v_in, const Tensor& out,
                               const Tensor& logsumexp, const Tensor& grad_out_in, double scale, Tensor* grad_q,
                               Tensor* grad_k, Tensor* grad_v) {
  if (takes_bf16_products(q_in, k_in, v_in)) {
    check_attention_shapes(q_in, k_in, v_in);
    return bf16_causal_attention_backward(q_in, k_in, v_in, out, logsumexp, grad_out_in, scale, grad_q, grad_k,
                                          grad_v);
  }
  Tensor q = readable_rows(upcast_half(q_in)), k = readable_rows(upcast_half(k_in)),
         v = readable_rows(upcast_half(v_in));
  check_attention_inputs(q, k, v);
  const Tensor grad_out = dense_in(grad_out_in, q.dtype()), o = dense_in(out, q.dtype()),
               lse = dense_in(logsumexp, q.dtype());
  int64_t b = q.size(0), h = q.size(1), t = q.size(2), d = q.size(3);
  Tensor gq = Tensor::empty(q.shape(), q.dtype(), q.device());
  Tensor gk = Tensor::empty(q.shape(), q.dtype(), q.device());
  Tensor gv = Tensor::empty(q.shape(), q.dtype(), q.device());
  dispatch_dtype(q.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      const HeadRows<T> hq(q), hk(k), hv(v);
      const T* po = o.data<T>();
      const T *pl = lse.data<T>(), *pg = grad_out.data<T>();
      T *pgq = gq.data<T>(), *pgk = gk.data<T>(), *pgv = gv.data<T>();
#pragma omp parallel
      {
        std::vector<T> probs(size_t(t * t)), dprobs(size_t(t * t));
        std::vector<T> row_dot(static_cast<size_t>(t));
#pragma omp for schedule(static)
        for (int64_t bh = 0; bh < b * h; ++bh) {
          const int64_t base = bh * t * d;
          const T* lse = pl + bh * t;
          // P = exp(scale * Q K^T - lse), causal.
          gemm<T>(false, true, t, t, d, T(scale), hq(bh), hq.ld, hk(bh), hk.ld, T(0), probs.data(), t);
          for (int64_t i = 0; i < t; ++i) {
            T* row = probs.data() + i * t;
            for (int64_t j = 0; j <= i; ++j) row[j] = std::exp(row[j] - lse[i]);
            for (int64_t j = i + 1; j < t; ++j) row[j] = T(0);
          }
          // dV = P^T dO;  dP = dO V^T
          gemm<T>(true, false, t, d, t, T(1), probs.data(), t, pg + base, d, T(0), pgv + base, d);
          gemm<T>(false, true, t, t, d, T(1), pg + base, d, hv(bh), hv.ld, T(0), dprobs.data(), t);
          // dS = P * (dP - rowsum(dO * O)) * scale
          for (int64_t i = 0; i < t; ++i) {
            double dot = 0.0;
            for (int64_t c = 0; c < d; ++c) dot += double(pg[base + i * d + c]) * double(po[base + i * d + c]);
            row_dot[size_t(i)] = T(dot);
          }
          for (int64_t i = 0; i < t; ++i) {
            T* ds = dprobs.data() + i * t;
            const T* p = probs.data() + i * t;
            for (int64_t j = 0; j < t; ++j) ds[j] = j <= i ? p[j] * (ds[j] - row_dot[size_t(i)]) * T(scale) : T(0);
          }
          // dQ = dS K;  dK = dS^T Q
          gemm<T>(false, false, t, d, t, T(1), dprobs.data(), t, hk(bh), hk.ld, T(0), pgq + base, d);
          gemm<T>(true, false, t, d, t, T(1), dprobs.data(), t, hq(bh), hq.ld, T(0), pgk + base, d);
        }
      }
    }
  });
  if (grad_q) *grad_q = in_dtype_of(gq, q_in);
  if (grad_k) *grad_k = in_dtype_of(gk, q_in);
  if (grad_v) *grad_v = in_dtype_of(gv, q_in);
}

namespace {

// One query row over `keys` cached rows, f64: softmax(scale * k q) v with every inner
// loop over contiguous memory, so it vectorizes.
void attention_row(const double* q, const double* k, const double* v, int64_t keys, int64_t d, double scale,
                   double* w, double* out) {
  double top = -std::numeric_limits<double>::infinity();
  for (int64_t j = 0; j < keys; ++j) {
    double dot = 0.0;
#pragma omp simd reduction(+ : dot)
    for (int64_t c = 0; c < d; ++c) dot += q[c] * k[j * d + c];
    w[j] = dot * scale;
    top = std::max(top, w[j]);
  }
  double sum = 0.0;
  for (int64_t j = 0; j < keys; ++j) sum += w[j] = std::exp(w[j] - top);
  std::fill(out, out + d, 0.0);
  for (int64_t j = 0; j < keys; ++j) {
    const double p = w[j] / sum;
#pragma omp simd
    for (int64_t c = 0; c < d; ++c) out[c] += p * v[j * d + c];
  }
}

// f32 on the instruction set of this CPU (vector_loops.h): 16-wide on AVX-512.
void attention_row(const float* q, const float* k, const float* v, int64_t keys, int64_t d, float scale, float* w,
                   float* out) {
  vector_loops::best().attention_row(q, k, v, keys, d, d, scale, w, out);
}

}  // namespace

Tensor cached_attention(const Tensor& q_in, const Tensor& k_cache, const Tensor& v_cache, int64_t past,
                        double scale) {
  Tensor q = q_in.is_contiguous() ? q_in : copy(q_in);
  check_cached_attention_inputs(q, k_cache, v_cache, past);
  const int64_t b = q.size(0), h = q.size(1), tq = q.size(2), d = q.size(3);
  const int64_t cap = k_cache.size(2);
  Tensor out = Tensor::empty(q.shape(), q.dtype(), q.device());
  dispatch_dtype(q.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      const T *pq = q.data<T>(), *pk = k_cache.data<T>(), *pv = v_cache.data<T>();
      T* po = out.data<T>();
#pragma omp parallel if (b * h > 1)
      {
        std::vector<T> scores(size_t(past + tq));  // one row per thread
#pragma omp for schedule(static)
        for (int64_t bh = 0; bh < b * h; ++bh)
          for (int64_t i = 0; i < tq; ++i)
            attention_row(pq + (bh * tq + i) * d, pk + bh * cap * d, pv + bh * cap * d, past + i + 1, d, T(scale),
                          scores.data(), po + (bh * tq + i) * d);
      }
    }
  });
  return out;
}

void register_attention(KernelTable& table) {
  table.causal_attention.add(DeviceKind::cpu, causal_attention, kFloating);
  table.causal_attention_backward.add(DeviceKind::cpu, causal_attention_backward, kFloating);
  table.cached_attention.add(DeviceKind::cpu, cached_attention, kFloat32And64);
}

}  // namespace ft::kernels::cpu
