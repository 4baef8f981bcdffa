// The small dense linear algebra of kernels.h for device tensors, run on the host.
// Its matrices are Glow's C x C 1x1-convolution weights (C from a few to a few
// hundred): once per step, microseconds to a millisecond of f64 work on the CPU,
// where a GPU factorisation of so small a matrix would be bound by one launch and
// one synchronisation per pivot; the issue allows it ("may run on the host in
// f64"). So each op copies its inputs to the host in
// their own dtype, runs the CPU kernel through the kernel table (f64 inside), and
// copies the results back to the input's device in the dtype the CPU returns: the
// answers equal the CPU's to the bit.
#include "framework/kernels/cuda/cuda_device.h"
#include "framework/kernels/cuda/kernels_cuda.h"
#include "framework/kernels/dispatch.h"
#include "framework/kernels/kernels.h"

namespace ft::kernels::cuda {

namespace {

Tensor to_host(const Tensor& t) {
  Tensor host = Tensor::empty(t.shape(), t.dtype(), Device::cpu());
  kernels::copy_into(host, t);
  return host;
}

Tensor to_device_of(const Tensor& host, const Tensor& like) {
  Tensor out = Tensor::empty(host.shape(), host.dtype(), like.device());
  kernels::copy_into(out, host);
  return out;
}

void slogdet(const Tensor& a, double* sign, double* logabsdet) { kernels::slogdet(to_host(a), sign, logabsdet); }

Tensor inverse(const Tensor& a) { return to_device_of(kernels::inverse(to_host(a)), a); }

Tensor triangular_solve(const Tensor& a, const Tensor& b, bool lower, bool unit_diagonal) {
  check_same_device(a, b, "triangular_solve");
  return to_device_of(kernels::triangular_solve(to_host(a), to_host(b), lower, unit_diagonal), b);
}

Tensor qr_orthogonal(const Tensor& a) { return to_device_of(kernels::qr_orthogonal(to_host(a)), a); }

LUFactors lu_decompose(const Tensor& a) {
  const LUFactors host = kernels::lu_decompose(to_host(a));
  return {to_device_of(host.p, a), to_device_of(host.l, a), to_device_of(host.u, a)};
}

}  // namespace

void register_linalg(KernelTable& table) {
  table.slogdet.add(DeviceKind::cuda, slogdet, kFloating);
  table.inverse.add(DeviceKind::cuda, inverse, kFloating);
  table.triangular_solve.add(DeviceKind::cuda, triangular_solve, kFloating);
  table.qr_orthogonal.add(DeviceKind::cuda, qr_orthogonal, kFloating);
  table.lu_decompose.add(DeviceKind::cuda, lu_decompose, kFloating);
}

}  // namespace ft::kernels::cuda
