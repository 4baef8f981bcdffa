// The entry points of kernels.h: each checks that its inputs share one device and
// calls the kernel the table holds for that device and the dtype of its main
// input. The ops built from other entry points (copy, cast, sum_to, ...) are
// written here once and registered wherever the op they are built on is.
#include <algorithm>

#include "framework/kernels/dispatch.h"
#include "framework/kernels/flop_count.h"
#include "framework/kernels/kernels.h"

namespace ft::kernels {

// ---- the table ------------------------------------------------------------------------

const char* device_kind_name(DeviceKind kind) { return kind == DeviceKind::cpu ? "cpu" : "cuda"; }

std::vector<DType> DTypeSet::list() const {
  std::vector<DType> out;
  for (DType d : {DType::f32, DType::f64, DType::bf16, DType::f16, DType::i32, DType::i64, DType::u8})
    if (contains(d)) out.push_back(d);
  return out;
}

Device common_device(const char* op, std::initializer_list<const Tensor*> tensors) {
  const Tensor* first = nullptr;
  for (const Tensor* t : tensors) {
    if (!t->defined()) continue;
    if (!first) first = t;
    FT_CHECK(t->device() == first->device(), "kernels::{} of tensors on {} and {}", op, first->device().str(),
             t->device().str());
  }
  FT_CHECK(first != nullptr, "kernels::{} without a defined input tensor", op);
  return first->device();
}

namespace {

Tensor copy_via_copy_into(const Tensor& x) {
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  copy_into(out, x);
  return out;
}

Tensor cast_via_copy_into(const Tensor& x, DType dtype) {
  if (x.dtype() == dtype && x.is_contiguous()) return x.detach();
  Tensor out = Tensor::empty(x.shape(), dtype, x.device());
  copy_into(out, x);
  return out;
}

Tensor upcast_half_via_cast(const Tensor& x) {
  if (x.dtype() != DType::bf16 && x.dtype() != DType::f16) return x;
  return cast(x, DType::f32);
}

Tensor sum_to_via_sum(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  FT_CHECK(x.shape().size() >= shape.size(), "cannot sum {} down to {}", shape_str(x.shape()), shape_str(shape));
  size_t lead = x.shape().size() - shape.size();
  std::vector<int64_t> dims;
  for (size_t d = 0; d < x.shape().size(); ++d) {
    if (d < lead) {
      dims.push_back(int64_t(d));
    } else if (shape[d - lead] == 1 && x.shape()[d] != 1) {
      dims.push_back(int64_t(d));
    } else {
      FT_CHECK(shape[d - lead] == x.shape()[d], "cannot sum {} down to {}", shape_str(x.shape()),
               shape_str(shape));
    }
  }
  Tensor reduced = sum(x, dims, true);
  // Drop the leading dims, keep the 1-dims of the target.
  return reduced.detach().reshape(shape);
}

double sum_all_via_sum(const Tensor& x) {
  std::vector<int64_t> dims(x.shape().size());
  for (size_t i = 0; i < dims.size(); ++i) dims[i] = int64_t(i);
  Tensor s = sum(x.dtype() == DType::f64 || x.dtype() == DType::f32 ? x : cast(x, DType::f64), dims, false);
  Tensor host = Tensor::empty({}, s.dtype());
  copy_into(host, s);
  return host.item();
}

// Each composite serves a device kind wherever the op it is built on does.
void register_composites(KernelTable& table) {
  for (DeviceKind kind : {DeviceKind::cpu, DeviceKind::cuda}) {
    const size_t k = size_t(kind);
    if (table.copy_into.kernels[k]) {
      const DTypeSet copyable = table.copy_into.dtypes[k];
      table.copy.add(kind, copy_via_copy_into, copyable);
      table.cast.add(kind, cast_via_copy_into, copyable);
      table.upcast_half.add(kind, upcast_half_via_cast, copyable);
    }
    if (table.sum.kernels[k]) {
      table.sum_to.add(kind, sum_to_via_sum, table.sum.dtypes[k]);
      if (table.copy_into.kernels[k] && table.sum.dtypes[k].contains(DType::f64))
        table.sum_all.add(kind, sum_all_via_sum, table.copy_into.dtypes[k]);
    }
  }
}

// The (query, key) pairs of causal attention over q [..., T, D]: rows * T(T+1)/2.
double causal_pairs(const Tensor& q) {
  const double t = double(q.size(-2));
  return double(q.numel() / (q.size(-1) * q.size(-2))) * t * (t + 1.0) / 2.0;
}

}  // namespace

KernelTable::KernelTable() {
  cpu::register_elementwise(*this);
  cpu::register_reduce(*this);
  cpu::register_matmul(*this);
  cpu::register_conv(*this);
  cpu::register_norm(*this);
  cpu::register_channel_affine(*this);
  cpu::register_attention(*this);
  cpu::register_index(*this);
  cpu::register_linalg(*this);
  cpu::register_optimizer(*this);
#if defined(FLOWTRAIN_HAVE_CUDA)
  cuda::register_kernels(*this);
#endif
  register_composites(*this);
}

std::vector<const OpCoverage*> KernelTable::ops() const {
  return {&copy, &copy_into, &cast, &upcast_half, &fill,
          &unary, &unary_backward, &binary, &add_inplace, &scale_shift,
          &sum, &sum_to, &max, &sum_all,
          &matmul, &linear, &conv2d, &conv2d_backward,
          &layer_norm, &layer_norm_backward, &softmax, &softmax_backward,
          &channel_affine, &channel_affine_backward,
          &causal_attention, &causal_attention_backward, &cached_attention,
          &index_select, &index_add,
          &slogdet, &inverse, &triangular_solve, &qr_orthogonal, &lu_decompose,
          &optimizer_update, &ema_update, &scale_inplace, &squared_norm};
}

const KernelTable& kernel_table() {
  static const KernelTable* table = new KernelTable();  // outlives static tensors
  return *table;
}

// ---- copies and fills -------------------------------------------------------------------

void copy_into(Tensor& dst, const Tensor& src) {
  // The one op across devices. The backend of the non-CPU side moves the bytes;
  // CPU devices share host memory, so cpu:0 <-> cpu:1 is a host copy.
  const Device device = dst.device().kind != DeviceKind::cpu ? dst.device() : src.device();
  kernel_table().copy_into.find(device, dst.dtype())(dst, src);
}

Tensor copy(const Tensor& x) { return kernel_table().copy.find(x.device(), x.dtype())(x); }

Tensor cast(const Tensor& x, DType dtype) { return kernel_table().cast.find(x.device(), x.dtype())(x, dtype); }

Tensor upcast_half(const Tensor& x) {
  if (!x.defined()) return x;
  return kernel_table().upcast_half.find(x.device(), x.dtype())(x);
}

void fill(Tensor& dst, double value) { kernel_table().fill.find(dst.device(), dst.dtype())(dst, value); }

// ---- element-wise -------------------------------------------------------------------------

Tensor unary(UnaryOp op, const Tensor& x, double p) {
  return kernel_table().unary.find(x.device(), x.dtype())(op, x, p);
}

Tensor unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& grad, double p) {
  const Device device = common_device("unary_backward", {&grad, &x, &y});
  return kernel_table().unary_backward.find(device, grad.dtype())(op, x, y, grad, p);
}

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  const Device device = common_device("binary", {&a, &b});
  return kernel_table().binary.find(device, a.dtype())(op, a, b);
}

void add_inplace(Tensor& dst, const Tensor& src, double alpha) {
  const Device device = common_device("add_inplace", {&dst, &src});
  kernel_table().add_inplace.find(device, dst.dtype())(dst, src, alpha);
}

Tensor scale_shift(const Tensor& x, double scale, double shift) {
  return kernel_table().scale_shift.find(x.device(), x.dtype())(x, scale, shift);
}

// ---- reductions -----------------------------------------------------------------------------

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  return kernel_table().sum.find(x.device(), x.dtype())(x, dims, keepdim);
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  return kernel_table().sum_to.find(x.device(), x.dtype())(x, shape);
}

Tensor max(const Tensor& x, int64_t dim, bool keepdim, Tensor* indices) {
  return kernel_table().max.find(x.device(), x.dtype())(x, dim, keepdim, indices);
}

double sum_all(const Tensor& x) { return kernel_table().sum_all.find(x.device(), x.dtype())(x); }

// ---- matrix products, convolution -------------------------------------------------------------

Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b) {
  const Device device = common_device("matmul", {&a, &b});
  Tensor c = kernel_table().matmul.find(device, a.dtype())(a, b, transpose_a, transpose_b);
  const int64_t inner = transpose_a ? a.size(-2) : a.size(-1);
  count_flops(2.0 * double(c.numel()) * double(inner));
  return c;
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  const Device device = common_device("linear", {&x, &weight, &bias});
  count_flops(2.0 * double(x.numel()) * double(weight.size(0)));
  return kernel_table().linear.find(device, x.dtype())(x, weight, bias);
}

Tensor conv2d(const Tensor& x, const Tensor& weight, int64_t padding) {
  const Device device = common_device("conv2d", {&x, &weight});
  Tensor y = kernel_table().conv2d.find(device, x.dtype())(x, weight, padding);
  count_flops(2.0 * double(y.numel()) * double(weight.numel() / weight.size(0)));
  return y;
}

void conv2d_backward(const Tensor& x, const Tensor& weight, const Tensor& grad_y, int64_t padding, Tensor* grad_x,
                     Tensor* grad_weight) {
  const Device device = common_device("conv2d_backward", {&x, &weight, &grad_y});
  const double one_product = 2.0 * double(grad_y.numel()) * double(weight.numel() / weight.size(0));
  count_flops(one_product * ((grad_x ? 1.0 : 0.0) + (grad_weight ? 1.0 : 0.0)));
  kernel_table().conv2d_backward.find(device, x.dtype())(x, weight, grad_y, padding, grad_x, grad_weight);
}

// ---- normalisation ------------------------------------------------------------------------------

Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps, Tensor* mean,
                  Tensor* rstd) {
  const Device device = common_device("layer_norm", {&x, &weight, &bias});
  return kernel_table().layer_norm.find(device, x.dtype())(x, weight, bias, eps, mean, rstd);
}

void layer_norm_backward(const Tensor& grad_y, const Tensor& x, const Tensor& weight, const Tensor& mean,
                         const Tensor& rstd, Tensor* grad_x, Tensor* grad_weight, Tensor* grad_bias) {
  const Device device = common_device("layer_norm_backward", {&grad_y, &x, &weight, &mean, &rstd});
  kernel_table().layer_norm_backward.find(device, x.dtype())(grad_y, x, weight, mean, rstd, grad_x, grad_weight,
                                                             grad_bias);
}

Tensor channel_affine(const Tensor& x, const Tensor& shift, const Tensor& log_scale) {
  const Device device = common_device("channel_affine", {&x, &shift, &log_scale});
  return kernel_table().channel_affine.find(device, x.dtype())(x, shift, log_scale);
}

void channel_affine_backward(const Tensor& grad_y, const Tensor& y, const Tensor& log_scale, Tensor* grad_x,
                             Tensor* grad_shift, Tensor* grad_log_scale) {
  const Device device = common_device("channel_affine_backward", {&grad_y, &y, &log_scale});
  kernel_table().channel_affine_backward.find(device, y.dtype())(grad_y, y, log_scale, grad_x, grad_shift,
                                                                 grad_log_scale);
}

Tensor softmax(const Tensor& x) { return kernel_table().softmax.find(x.device(), x.dtype())(x); }

Tensor softmax_backward(const Tensor& y, const Tensor& grad_y) {
  const Device device = common_device("softmax_backward", {&y, &grad_y});
  return kernel_table().softmax_backward.find(device, y.dtype())(y, grad_y);
}

// ---- attention ------------------------------------------------------------------------------------

Tensor causal_attention(const Tensor& q, const Tensor& k, const Tensor& v, double scale, Tensor* logsumexp) {
  const Device device = common_device("causal_attention", {&q, &k, &v});
  count_flops(4.0 * causal_pairs(q) * double(q.size(-1)));  // q k^T and p v
  return kernel_table().causal_attention.find(device, q.dtype())(q, k, v, scale, logsumexp);
}

void causal_attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                               const Tensor& logsumexp, const Tensor& grad_out, double scale, Tensor* grad_q,
                               Tensor* grad_k, Tensor* grad_v) {
  const Device device = common_device("causal_attention_backward", {&q, &k, &v, &out, &logsumexp, &grad_out});
  count_flops(10.0 * causal_pairs(q) * double(q.size(-1)));  // p again, dp, dv, dq, dk
  kernel_table().causal_attention_backward.find(device, q.dtype())(q, k, v, out, logsumexp, grad_out, scale,
                                                                   grad_q, grad_k, grad_v);
}

Tensor cached_attention(const Tensor& q, const Tensor& k_cache, const Tensor& v_cache, int64_t past,
                        double scale) {
  const Device device = common_device("cached_attention", {&q, &k_cache, &v_cache});
  const double rows = double(q.numel() / (q.size(-1) * q.size(-2))), tq = double(q.size(-2));
  count_flops(4.0 * rows * (tq * double(past) + tq * (tq + 1.0) / 2.0) * double(q.size(-1)));
  return kernel_table().cached_attention.find(device, q.dtype())(q, k_cache, v_cache, past, scale);
}

// ---- indexing ---------------------------------------------------------------------------------------

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  const Device device = common_device("index_select", {&x, &index});
  return kernel_table().index_select.find(device, x.dtype())(x, dim, index);
}

Tensor index_add(const Shape& shape, int64_t dim, const Tensor& index, const Tensor& src) {
  const Device device = common_device("index_add", {&src, &index});
  return kernel_table().index_add.find(device, src.dtype())(shape, dim, index, src);
}

// ---- small dense linear algebra -------------------------------------------------------------------------

void slogdet(const Tensor& a, double* sign, double* logabsdet) {
  kernel_table().slogdet.find(a.device(), a.dtype())(a, sign, logabsdet);
}

Tensor inverse(const Tensor& a) { return kernel_table().inverse.find(a.device(), a.dtype())(a); }

Tensor triangular_solve(const Tensor& a, const Tensor& b, bool lower, bool unit_diagonal) {
  const Device device = common_device("triangular_solve", {&a, &b});
  return kernel_table().triangular_solve.find(device, a.dtype())(a, b, lower, unit_diagonal);
}

Tensor qr_orthogonal(const Tensor& a) { return kernel_table().qr_orthogonal.find(a.device(), a.dtype())(a); }

LUFactors lu_decompose(const Tensor& a) { return kernel_table().lu_decompose.find(a.device(), a.dtype())(a); }

// ---- optimizer updates --------------------------------------------------------------------------------

namespace {

// The flat-range contract of the optimizer kernels: what the backends may assume.
void check_flat_ranges(const char* op, std::initializer_list<const Tensor*> tensors) {
  const Tensor& first = **tensors.begin();
  for (const Tensor* t : tensors) {
    FT_CHECK(t->defined() && t->is_contiguous(), "kernels::{}: every range must be a defined contiguous tensor", op);
    FT_CHECK(t->dtype() == first.dtype(), "kernels::{} of {} and {} tensors", op, dtype_name(first.dtype()),
             dtype_name(t->dtype()));
    FT_CHECK(t->numel() == first.numel(), "kernels::{} of ranges of {} and {} elements", op, first.numel(),
             t->numel());
  }
}

}  // namespace

void optimizer_update(OptimizerRule rule, const OptimizerScalars& scalars, Tensor& params, const Tensor& grads,
                      Tensor& first, Tensor& second) {
  check_flat_ranges("optimizer_update", {&params, &grads, &first, &second});
  const Device device = common_device("optimizer_update", {&params, &grads, &first, &second});
  kernel_table().optimizer_update.find(device, params.dtype())(rule, scalars, params, grads, first, second);
}

void ema_update(Tensor& shadow, const Tensor& params, double decay) {
  check_flat_ranges("ema_update", {&shadow, &params});
  const Device device = common_device("ema_update", {&shadow, &params});
  kernel_table().ema_update.find(device, shadow.dtype())(shadow, params, decay);
}

void scale_inplace(Tensor& x, double factor) {
  check_flat_ranges("scale_inplace", {&x});
  // Multiplying by exactly 1 changes nothing: skip the pass over memory.
  if (factor == 1.0) return;
  kernel_table().scale_inplace.find(x.device(), x.dtype())(x, factor);
}

double squared_norm(const Tensor& x) {
  check_flat_ranges("squared_norm", {&x});
  return kernel_table().squared_norm.find(x.device(), x.dtype())(x);
}

}  // namespace ft::kernels
