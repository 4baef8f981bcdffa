#include "framework/autograd/node.h"
#include "framework/kernels/kernels.h"
#include "framework/ops/ops.h"

namespace ft {

Tensor concat(const std::vector<Tensor>& tensors, int64_t dim) {
  FT_CHECK(!tensors.empty(), "concat of no tensors");
  const Tensor& first = tensors[0];
  int d = normalize_dim(dim, first.shape().size());
  Shape shape = first.shape();
  shape[size_t(d)] = 0;
  std::vector<int64_t> sizes;
  for (const Tensor& t : tensors) {
    // Checked here: the copies below would move data between devices silently.
    FT_CHECK(t.device() == first.device(), "concat of tensors on {} and {}", first.device().str(), t.device().str());
    FT_CHECK(t.dim() == first.dim() && t.dtype() == first.dtype(), "concat of {} {} with {} {}",
             dtype_name(first.dtype()), shape_str(first.shape()), dtype_name(t.dtype()), shape_str(t.shape()));
    for (size_t i = 0; i < shape.size(); ++i)
      FT_CHECK(i == size_t(d) || t.shape()[i] == first.shape()[i], "concat along {} of {} and {}", d,
               shape_str(first.shape()), shape_str(t.shape()));
    sizes.push_back(t.shape()[size_t(d)]);
    shape[size_t(d)] += t.shape()[size_t(d)];
  }
  Tensor out = Tensor::empty(shape, first.dtype(), first.device());
  int64_t start = 0;
  for (const Tensor& t : tensors) {
    Tensor window = out.slice(d, start, start + t.shape()[size_t(d)]);
    window.copy_(t);
    start += t.shape()[size_t(d)];
  }
  record_differentiable("concat", out, tensors, [sizes, d](const Tensor& g) {
    std::vector<Tensor> grads;
    int64_t begin = 0;
    for (int64_t s : sizes) {
      grads.push_back(g.slice(d, begin, begin + s));
      begin += s;
    }
    return grads;
  });
  return out;
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim) {
  int d = normalize_dim(dim, x.shape().size());
  int64_t total = 0;
  for (int64_t s : sizes) total += s;
  FT_CHECK(total == x.shape()[size_t(d)], "split sizes sum to {} but dimension {} has {}", total, d,
           x.shape()[size_t(d)]);
  std::vector<Tensor> parts;
  int64_t begin = 0;
  for (int64_t s : sizes) {
    parts.push_back(x.slice(d, begin, begin + s));
    begin += s;
  }
  return parts;
}

std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  int64_t n = x.size(dim);
  FT_CHECK(chunks > 0 && n % chunks == 0, "chunk of a dimension of {} into {} equal parts", n, chunks);
  return split(x, std::vector<int64_t>(size_t(chunks), n / chunks), dim);
}

namespace {

// The adjoint of index_select: g's slices added into zeros of `shape` at `index`
// along dim. Each is the other's backward, so both differentiate any number of times.
Tensor index_add(const Shape& shape, int64_t dim, const Tensor& index, const Tensor& g) {
  Tensor y = kernels::index_add(shape, dim, index, g.detach());
  record_differentiable("index_add", y, {g}, [dim, index](const Tensor& gy) {
    return std::vector<Tensor>{index_select(gy, dim, index)};
  });
  return y;
}

}  // namespace

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  Tensor y = kernels::index_select(x.detach(), dim, index);
  record_differentiable("index_select", y, {x}, [shape = x.shape(), dim, idx = index.detach()](const Tensor& g) {
    return std::vector<Tensor>{index_add(shape, dim, idx, g)};
  });
  return y;
}

Tensor flip(const Tensor& x, int64_t dim) {
  int64_t n = x.size(dim);
  std::vector<int64_t> reversed(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) reversed[size_t(i)] = n - 1 - i;
  return index_select(x, dim, Tensor::from_vector(reversed, {n}, x.device()));
}

Tensor space_to_depth(const Tensor& x, int64_t f) {
  FT_CHECK(x.dim() == 4, "space_to_depth needs [N,C,H,W], got {}", shape_str(x.shape()));
  int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  FT_CHECK(f > 0 && h % f == 0 && w % f == 0, "space_to_depth by {} of a {}x{} image", f, h, w);
  return x.reshape({n, c, h / f, f, w / f, f}).permute({0, 1, 3, 5, 2, 4}).reshape({n, c * f * f, h / f, w / f});
}

Tensor depth_to_space(const Tensor& x, int64_t f) {
  FT_CHECK(x.dim() == 4, "depth_to_space needs [N,C,H,W], got {}", shape_str(x.shape()));
  int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  FT_CHECK(f > 0 && c % (f * f) == 0, "depth_to_space by {} of {} channels", f, c);
  return x.reshape({n, c / (f * f), f, f, h, w}).permute({0, 1, 4, 2, 5, 3}).reshape({n, c / (f * f), h * f, w * f});
}

}  // namespace ft
