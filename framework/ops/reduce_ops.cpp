#include "framework/autograd/node.h"
#include "framework/kernels/kernels.h"
#include "framework/ops/ops.h"

namespace ft {

namespace {

std::vector<int64_t> all_dims(const Tensor& x) {
  std::vector<int64_t> dims(size_t(x.dim()));
  for (size_t i = 0; i < dims.size(); ++i) dims[i] = int64_t(i);
  return dims;
}

// The shape of a reduction's output with the reduced dims kept as 1.
Shape kept_shape(const Shape& shape, const std::vector<int64_t>& dims) {
  Shape kept = shape;
  for (int64_t d : dims) kept[size_t(normalize_dim(d, shape.size()))] = 1;
  return kept;
}

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  Tensor y = kernels::sum(x, dims, keepdim);
  record_differentiable("sum", y, {x}, [shape = x.shape(), kept = kept_shape(x.shape(), dims)](const Tensor& g) {
    return std::vector<Tensor>{g.reshape(kept).expand(shape).contiguous()};
  });
  return y;
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  Tensor y = kernels::sum_to(x, shape);
  record_differentiable("sum_to", y, {x}, [full = x.shape()](const Tensor& g) {
    return std::vector<Tensor>{g.expand(full)};
  });
  return y;
}

Tensor sum(const Tensor& x) { return sum(x, all_dims(x), false); }

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  int64_t count = 1;
  for (int64_t d : dims) count *= x.size(d);
  return mul(sum(x, dims, keepdim), 1.0 / double(count));
}

Tensor mean(const Tensor& x) { return mean(x, all_dims(x), false); }

Tensor replica_average(const Tensor& x, const std::function<void(Tensor&)>& average) {
  Tensor y = x.detach().contiguous().clone();
  average(y);
  record(
      "replica_average", y, {x},
      [average](const Tensor& g) {
        Tensor averaged = g.contiguous().clone();
        average(averaged);
        return std::vector<Tensor>{averaged};
      },
      [average](const Tensor& g) { return std::vector<Tensor>{replica_average(g, average)}; });
  return y;
}

namespace {

// Each element of g (shaped `kept`) at the position of its maximum along d, zeros
// elsewhere, on the host: max's backward is rare (no flow trains through it), and
// this keeps one scatter for every device. Device tensors go through host copies.
Tensor scatter_to_maxima(const Shape& shape, int d, const Tensor& idx, const Shape& kept, const Tensor& g) {
  Tensor grad = Tensor::zeros(shape, g.dtype());
  Tensor gk = Tensor::empty(kept, g.dtype());
  kernels::copy_into(gk, g.reshape(kept));
  Tensor ik = Tensor::empty(kept, DType::i64);
  kernels::copy_into(ik, idx.reshape(kept));
  const int64_t* pi = ik.data<int64_t>();
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < d; ++i) outer *= shape[size_t(i)];
  for (size_t i = size_t(d) + 1; i < shape.size(); ++i) inner *= shape[i];
  int64_t n = shape[size_t(d)];
  dispatch_dtype(g.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      const T* pg = gk.data<T>();
      T* out = grad.data<T>();
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t c = 0; c < inner; ++c) out[(o * n + pi[o * inner + c]) * inner + c] = pg[o * inner + c];
    }
  });
  if (g.device() == grad.device()) return grad;
  Tensor on_device = Tensor::empty(shape, g.dtype(), g.device());
  kernels::copy_into(on_device, grad);
  return on_device;
}

}  // namespace

Tensor max(const Tensor& x, int64_t dim, bool keepdim) {
  Tensor indices;
  Tensor y = kernels::max(x, dim, keepdim, &indices);
  int d = normalize_dim(dim, x.shape().size());
  Shape kept = kept_shape(x.shape(), {d});
  record(
      "max", y, {x},
      [shape = x.shape(), d, idx = indices, kept](const Tensor& g) {
        return std::vector<Tensor>{scatter_to_maxima(shape, d, idx, kept, g)};
      },
      // g times the one-hot mask of the maxima: linear in g, so differentiable.
      [shape = x.shape(), d, idx = indices, kept](const Tensor& g) {
        Tensor mask = scatter_to_maxima(shape, d, idx, kept, Tensor::ones(kept, g.dtype(), g.device()));
        return std::vector<Tensor>{mul(g.reshape(kept).expand(shape), mask)};
      });
  return y;
}

}  // namespace ft
