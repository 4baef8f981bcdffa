// Tensor: a typed, strided view of shared storage, plus the autograd fields.
// Views (reshape of contiguous data, permute, slice, expand) share storage; ops
// that need dense input call contiguous().
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "framework/core/check.h"
#include "framework/core/dtype.h"
#include "framework/core/shape.h"

namespace ft {

class Allocator;
struct Node;

// A block of device memory owned through the device's caching allocator.
struct Storage {
  Storage(size_t bytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  void* data = nullptr;
  size_t bytes = 0;
  Device device;
  Allocator* allocator = nullptr;
};

class Tensor;
using GradHook = std::function<void(Tensor& grad)>;

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  DType dtype = DType::f32;
  Shape shape;
  Strides strides;
  int64_t offset = 0;  // in elements
  // autograd
  bool requires_grad = false;
  std::shared_ptr<Node> grad_fn;           // producer node for non-leaf tensors
  std::shared_ptr<Node> grad_accumulator;  // for leaves that require grad
  std::shared_ptr<TensorImpl> grad;
  std::vector<GradHook> grad_ready_hooks;  // run once this leaf's gradient is complete
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- factories -------------------------------------------------------------
  static Tensor empty(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor zeros(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor ones(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor full(const Shape& shape, double value, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor scalar(double value, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor arange(int64_t n, DType dtype = DType::f32, Device device = Device::cpu());
  template <class T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape, Device device = Device::cpu());
  // Shape, dtype and device of like.
  static Tensor empty_like(const Tensor& like);
  static Tensor zeros_like(const Tensor& like);

  // ---- metadata ----------------------------------------------------------------
  bool defined() const { return impl_ != nullptr; }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().storage->device; }
  const Shape& shape() const { return impl().shape; }
  const Strides& strides() const { return impl().strides; }
  int64_t offset() const { return impl().offset; }
  int64_t size(int64_t dim) const;
  int64_t dim() const { return int64_t(impl().shape.size()); }
  int64_t numel() const { return numel_of(impl().shape); }
  size_t nbytes() const { return size_t(numel()) * dtype_size(dtype()); }
  bool is_contiguous() const;
  bool shares_storage(const Tensor& other) const { return impl().storage == other.impl().storage; }

  // ---- raw data (CPU) ------------------------------------------------------------
  void* raw_data() const;  // pointer to element [0,...,0]
  template <class T> T* data() const {
    FT_CHECK(dtype_of<T>() == dtype(), "data<{}>() on a {} tensor", dtype_name(dtype_of<T>()),
             dtype_name(dtype()));
    return static_cast<T*>(raw_data());
  }
  double item() const;                        // the value of a one-element tensor, as double
  std::vector<double> to_double_vector() const;  // every element in logical order
  template <class T> std::vector<T> to_vector() const;

  // ---- views (differentiable; share storage) ---------------------------------------
  Tensor reshape(const Shape& shape) const;  // a view when contiguous, else a copy
  Tensor permute(const std::vector<int64_t>& order) const;
  Tensor transpose(int64_t a, int64_t b) const;
  Tensor slice(int64_t dim, int64_t start, int64_t end) const;  // [start, end) along dim
  Tensor select(int64_t dim, int64_t index) const;              // drops dim
  Tensor expand(const Shape& shape) const;                      // broadcast without copying
  Tensor unsqueeze(int64_t dim) const;
  Tensor squeeze(int64_t dim) const;
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;

  // ---- copies ---------------------------------------------------------------------
  Tensor contiguous() const;  // differentiable; returns *this when already contiguous
  Tensor clone() const;       // differentiable dense copy
  Tensor to(DType dtype) const;     // differentiable between floating types
  Tensor to(Device device) const;  // differentiable: the gradient is copied back
  Tensor detach() const;      // same storage and view, no autograd history
  void copy_(const Tensor& src);    // in place, broadcasting src; not recorded by autograd
  void fill_(double value);         // in place; not recorded by autograd
  void zero_() { fill_(0.0); }

  // ---- autograd --------------------------------------------------------------------
  bool requires_grad() const { return impl_ && impl_->requires_grad; }
  Tensor& set_requires_grad(bool flag);
  Tensor grad() const { return impl().grad ? Tensor(impl().grad) : Tensor(); }
  void set_grad(const Tensor& grad);
  bool is_leaf() const { return !impl().grad_fn; }
  const std::shared_ptr<Node>& grad_fn() const { return impl().grad_fn; }
  // Runs backward from this tensor (a scalar unless gradient is given).
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false) const;
  void register_grad_ready_hook(GradHook hook);

  TensorImpl& impl() const {
    FT_CHECK(impl_ != nullptr, "use of an undefined tensor");
    return *impl_;
  }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const Tensor& other) const { return impl_ == other.impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// A tensor viewing the same storage with other shape/strides/offset (no autograd).
Tensor make_view(const Tensor& base, const Shape& shape, const Strides& strides, int64_t offset);

}  // namespace ft
