#include "framework/core/tensor.h"

#include <algorithm>
#include <numeric>

#include "framework/autograd/engine.h"
#include "framework/autograd/grad_mode.h"
#include "framework/autograd/node.h"
#include "framework/core/allocator.h"
#include "framework/kernels/kernels.h"
#include "framework/ops/ops.h"

namespace ft {

Storage::Storage(size_t n, Device dev) : bytes(n), device(dev), allocator(&allocator_for(dev)) {
  data = allocator->allocate(std::max<size_t>(n, 1));
}

Storage::~Storage() { allocator->deallocate(data, std::max<size_t>(bytes, 1)); }

// ---- factories -----------------------------------------------------------------------

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  for (int64_t s : shape) FT_CHECK(s >= 0, "negative size in shape {}", shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(size_t(numel_of(shape)) * dtype_size(dtype), device);
  impl->dtype = dtype;
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  return Tensor(std::move(impl));
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.fill_(0.0);
  return t;
}

Tensor Tensor::ones(const Shape& shape, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.fill_(1.0);
  return t;
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.fill_(value);
  return t;
}

Tensor Tensor::scalar(double value, DType dtype, Device device) { return full({}, value, dtype, device); }

Tensor Tensor::arange(int64_t n, DType dtype, Device device) {
  Tensor t = empty({n}, DType::f64);
  double* p = t.data<double>();
  for (int64_t i = 0; i < n; ++i) p[i] = double(i);
  return (dtype == DType::f64 ? t : kernels::cast(t, dtype)).to(device);
}

template <class T>
Tensor Tensor::from_vector(const std::vector<T>& values, const Shape& shape, Device device) {
  FT_CHECK(int64_t(values.size()) == numel_of(shape), "{} values for shape {}", values.size(),
           shape_str(shape));
  Tensor t = empty(shape, dtype_of<T>());
  std::copy(values.begin(), values.end(), t.data<T>());
  return t.to(device);
}
template Tensor Tensor::from_vector(const std::vector<float>&, const Shape&, Device);
template Tensor Tensor::from_vector(const std::vector<double>&, const Shape&, Device);
template Tensor Tensor::from_vector(const std::vector<int32_t>&, const Shape&, Device);
template Tensor Tensor::from_vector(const std::vector<int64_t>&, const Shape&, Device);
template Tensor Tensor::from_vector(const std::vector<uint8_t>&, const Shape&, Device);

Tensor Tensor::empty_like(const Tensor& like) { return empty(like.shape(), like.dtype(), like.device()); }

Tensor Tensor::zeros_like(const Tensor& like) { return zeros(like.shape(), like.dtype(), like.device()); }

// ---- metadata -------------------------------------------------------------------------

int64_t Tensor::size(int64_t d) const { return shape()[normalize_dim(d, shape().size())]; }

bool Tensor::is_contiguous() const {
  const Shape& s = shape();
  const Strides& st = strides();
  int64_t expected = 1;
  for (size_t i = s.size(); i-- > 0;) {
    if (s[i] == 1) continue;
    if (st[i] != expected) return false;
    expected *= s[i];
  }
  return true;
}

void* Tensor::raw_data() const {
  return static_cast<char*>(impl().storage->data) + impl().offset * int64_t(dtype_size(dtype()));
}

double Tensor::item() const {
  FT_CHECK(numel() == 1, "item() on a tensor of shape {}", shape_str(shape()));
  return to_double_vector()[0];
}

std::vector<double> Tensor::to_double_vector() const {
  FT_CHECK(device().kind == DeviceKind::cpu, "reading values of a {} tensor; move it to cpu first",
           device().str());
  Tensor dense = kernels::cast(*this, DType::f64);
  const double* p = dense.data<double>();
  return std::vector<double>(p, p + dense.numel());
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  Tensor dense = kernels::cast(*this, dtype_of<T>());
  const T* p = dense.data<T>();
  return std::vector<T>(p, p + dense.numel());
}
template std::vector<float> Tensor::to_vector() const;
template std::vector<double> Tensor::to_vector() const;
template std::vector<int32_t> Tensor::to_vector() const;
template std::vector<int64_t> Tensor::to_vector() const;
template std::vector<uint8_t> Tensor::to_vector() const;

// ---- views ----------------------------------------------------------------------------

Tensor make_view(const Tensor& base, const Shape& shape, const Strides& strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.impl().storage;
  impl->dtype = base.dtype();
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = offset;
  return Tensor(std::move(impl));
}

Tensor Tensor::reshape(const Shape& requested) const {
  Shape target = requested;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] == -1) {
      FT_CHECK(infer < 0, "reshape to {} has more than one -1", shape_str(requested));
      infer = int64_t(i);
    } else {
      known *= target[i];
    }
  }
  if (infer >= 0) {
    FT_CHECK(known > 0 && numel() % known == 0, "cannot reshape {} to {}", shape_str(shape()),
             shape_str(requested));
    target[size_t(infer)] = numel() / known;
  }
  FT_CHECK(numel_of(target) == numel(), "cannot reshape {} ({} elements) to {}", shape_str(shape()),
           numel(), shape_str(requested));
  Tensor source = contiguous();
  Tensor out = make_view(source, target, contiguous_strides(target), source.offset());
  Shape original = shape();
  record_differentiable("reshape", out, {source}, [original](const Tensor& g) {
    return std::vector<Tensor>{g.reshape(original)};
  });
  return out;
}

Tensor Tensor::permute(const std::vector<int64_t>& order) const {
  FT_CHECK(order.size() == shape().size(), "permute order of {} dims for a tensor of {} dims",
           order.size(), shape().size());
  Shape s(order.size());
  Strides st(order.size());
  std::vector<int64_t> inverse(order.size());
  std::vector<bool> used(order.size(), false);
  for (size_t i = 0; i < order.size(); ++i) {
    int d = normalize_dim(order[i], order.size());
    FT_CHECK(!used[size_t(d)], "permute order repeats dimension {}", d);
    used[size_t(d)] = true;
    s[i] = shape()[size_t(d)];
    st[i] = strides()[size_t(d)];
    inverse[size_t(d)] = int64_t(i);
  }
  Tensor out = make_view(*this, s, st, offset());
  record_differentiable("permute", out, {*this}, [inverse](const Tensor& g) {
    return std::vector<Tensor>{g.permute(inverse)};
  });
  return out;
}

Tensor Tensor::transpose(int64_t a, int64_t b) const {
  std::vector<int64_t> order(shape().size());
  std::iota(order.begin(), order.end(), 0);
  std::swap(order[size_t(normalize_dim(a, order.size()))], order[size_t(normalize_dim(b, order.size()))]);
  return permute(order);
}

Tensor Tensor::slice(int64_t dim_index, int64_t start, int64_t end) const {
  int d = normalize_dim(dim_index, shape().size());
  int64_t n = shape()[size_t(d)];
  if (start < 0) start += n;
  if (end < 0) end += n;
  end = std::min(end, n);
  FT_CHECK(start >= 0 && start <= end, "slice [{}, {}) of dimension {} with size {}", start, end, d, n);
  Shape s = shape();
  s[size_t(d)] = end - start;
  Tensor out = make_view(*this, s, strides(), offset() + start * strides()[size_t(d)]);
  Shape full_shape = shape();
  DType dt = dtype();
  Device dev = device();
  record(
      "slice", out, {*this},
      [full_shape, d, start, end, dt, dev](const Tensor& g) {
        Tensor grad = Tensor::zeros(full_shape, dt, dev);
        Tensor window = grad.slice(d, start, end);
        window.copy_(g);
        return std::vector<Tensor>{grad};
      },
      [full_shape, d, start, end, dt, dev](const Tensor& g) {  // zeros around g, by a differentiable concat
        std::vector<Tensor> parts;
        Shape before = full_shape, after = full_shape;
        before[size_t(d)] = start;
        after[size_t(d)] = full_shape[size_t(d)] - end;
        if (start > 0) parts.push_back(Tensor::zeros(before, dt, dev));
        parts.push_back(g);
        if (after[size_t(d)] > 0) parts.push_back(Tensor::zeros(after, dt, dev));
        return std::vector<Tensor>{concat(parts, d)};
      });
  return out;
}

Tensor Tensor::select(int64_t dim_index, int64_t index) const {
  int d = normalize_dim(dim_index, shape().size());
  int64_t n = shape()[size_t(d)];
  if (index < 0) index += n;
  FT_CHECK(index >= 0 && index < n, "select index {} of dimension {} with size {}", index, d, n);
  return slice(d, index, index + 1).squeeze(d);
}

Tensor Tensor::expand(const Shape& target) const {
  FT_CHECK(target.size() >= shape().size(), "cannot expand {} to {}", shape_str(shape()),
           shape_str(target));
  size_t lead = target.size() - shape().size();
  Strides st(target.size(), 0);
  for (size_t i = 0; i < target.size(); ++i) {
    if (i < lead) continue;
    int64_t have = shape()[i - lead];
    FT_CHECK(have == target[i] || have == 1, "cannot expand {} to {}", shape_str(shape()),
             shape_str(target));
    st[i] = have == 1 && target[i] != 1 ? 0 : strides()[i - lead];
  }
  Tensor out = make_view(*this, target, st, offset());
  Shape original = shape();
  record_differentiable("expand", out, {*this},
                        [original](const Tensor& g) { return std::vector<Tensor>{sum_to(g, original)}; });
  return out;
}

Tensor Tensor::unsqueeze(int64_t d) const {
  int n = normalize_dim(d, shape().size() + 1);
  Shape s = shape();
  s.insert(s.begin() + n, 1);
  return reshape(s);
}

Tensor Tensor::squeeze(int64_t d) const {
  int n = normalize_dim(d, shape().size());
  FT_CHECK(shape()[size_t(n)] == 1, "squeeze of dimension {} with size {}", n, shape()[size_t(n)]);
  Shape s = shape();
  s.erase(s.begin() + n);
  if (is_contiguous()) return reshape(s);
  Strides st = strides();
  st.erase(st.begin() + n);
  Tensor out = make_view(*this, s, st, offset());
  Shape original = shape();
  record_differentiable("squeeze", out, {*this}, [original](const Tensor& g) {
    return std::vector<Tensor>{g.reshape(original)};
  });
  return out;
}

Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  if (shape().empty()) return reshape({1});
  int a = normalize_dim(start_dim, shape().size());
  int b = normalize_dim(end_dim, shape().size());
  Shape s(shape().begin(), shape().begin() + a);
  int64_t merged = 1;
  for (int i = a; i <= b; ++i) merged *= shape()[size_t(i)];
  s.push_back(merged);
  s.insert(s.end(), shape().begin() + b + 1, shape().end());
  return reshape(s);
}

// ---- copies ----------------------------------------------------------------------------

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  return clone();
}

Tensor Tensor::clone() const {
  Tensor out = kernels::copy(*this);
  record_differentiable("clone", out, {*this}, [](const Tensor& g) { return std::vector<Tensor>{g}; });
  return out;
}

Tensor Tensor::to(DType target) const {
  if (target == dtype()) return *this;
  Tensor out = kernels::cast(*this, target);
  if (is_floating(target) && is_floating(dtype())) {
    DType source = dtype();
    record_differentiable("to", out, {*this}, [source](const Tensor& g) { return std::vector<Tensor>{g.to(source)}; });
  }
  return out;
}

Tensor Tensor::to(Device target) const {
  if (target == device()) return *this;
  Tensor out = empty(shape(), dtype(), target);
  out.copy_(*this);
  Device source = device();
  record_differentiable("to_device", out, {*this}, [source](const Tensor& g) { return std::vector<Tensor>{g.to(source)}; });
  return out;
}

Tensor Tensor::detach() const {
  Tensor out = make_view(*this, shape(), strides(), offset());
  return out;
}

void Tensor::copy_(const Tensor& src) { kernels::copy_into(*this, src); }

void Tensor::fill_(double value) { kernels::fill(*this, value); }

// ---- autograd ---------------------------------------------------------------------------

Tensor& Tensor::set_requires_grad(bool flag) {
  FT_CHECK(!flag || is_floating(dtype()), "requires_grad on a {} tensor", dtype_name(dtype()));
  FT_CHECK(is_leaf(), "set_requires_grad on a non-leaf tensor (produced by {})", grad_fn()->name());
  impl().requires_grad = flag;
  return *this;
}

void Tensor::set_grad(const Tensor& grad) {
  if (!grad.defined()) {
    impl().grad.reset();
    return;
  }
  FT_CHECK(grad.shape() == shape(), "gradient of shape {} for a tensor of shape {}",
           shape_str(grad.shape()), shape_str(shape()));
  impl().grad = grad.impl_ptr();
}

void Tensor::backward(const Tensor& gradient, bool retain_graph) const {
  run_backward(*this, gradient, retain_graph);
}

void Tensor::register_grad_ready_hook(GradHook hook) {
  FT_CHECK(is_leaf() && requires_grad(), "grad-ready hooks go on leaves that require grad");
  impl().grad_ready_hooks.push_back(std::move(hook));
}

}  // namespace ft
