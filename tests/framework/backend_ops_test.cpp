// Every op of the kernel table on every backend against the CPU in f64, in the
// style of ggml's tests/test-backend-ops.cpp. For each backend (cpu:1, which runs
// the CPU kernels on a second device and so checks that every output lands on its
// inputs' device; cuda:0 where a GPU exists) and each dtype the backend registers
// for an op, the case's inputs are drawn in f64, rounded to that dtype, and run
// there; the reference runs the same rounded values through the CPU kernels in f64.
// The error is the tests' one metric (tests/support/tensor_compare.h: the largest
// difference relative to the reference's largest magnitude, where ggml uses the
// normalized mean squared error), bounded by the dtype of each output: 1e-12 in f64,
// 1e-5 in f32 (which the kernels also compute bf16 and f16 inputs in), the rounding
// of f16 (1e-3) and bf16 (8e-3), and exactly 0 for integers (a number the op answers
// on the host, as sum_all, by its input's dtype). Forward calls only; the
// *_backward entry points are ops of their own.
//
// The test prints the coverage table and fails when a backend lacks an op that is not
// listed as unsupported there, or lists one it has.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "framework/kernels/cuda/cuda_runtime.h"
#include "framework/kernels/dispatch.h"
#include "framework/kernels/kernels.h"
#include "framework/random/generator.h"
#include "tests/support/tensor_compare.h"

using namespace ft;

namespace {

// Ops the CUDA backend has no kernel for: none (an op added to kernels.h without a
// CUDA kernel must be listed here, or this test fails).
[[maybe_unused]] const std::set<std::string> kUnsupportedOnCuda = {};

enum class Fill { signed_values, positive, index, matrix, lower_triangular };

struct InputSpec {
  Shape shape;
  Fill fill = Fill::signed_values;
  int64_t index_limit = 0;  // Fill::index: values in [0, index_limit)
};

// One call (or a few) of an op; outputs are compared one by one. A case whose op
// answers on the host (sum_all, slogdet) wraps the numbers as tensors itself.
struct OpCase {
  std::string op;
  std::vector<InputSpec> inputs;
  std::function<std::vector<Tensor>(const std::vector<Tensor>&)> run;
  bool host_result = false;
};

constexpr UnaryOp kUnaryOps[] = {UnaryOp::neg,         UnaryOp::exp,      UnaryOp::log,  UnaryOp::sqrt,
                                 UnaryOp::square,      UnaryOp::sigmoid,  UnaryOp::log_sigmoid,
                                 UnaryOp::softplus,    UnaryOp::tanh,     UnaryOp::relu, UnaryOp::gelu,
                                 UnaryOp::abs,         UnaryOp::pow};
bool needs_positive(UnaryOp op) { return op == UnaryOp::log || op == UnaryOp::sqrt || op == UnaryOp::pow; }

std::vector<OpCase> op_cases() {
  using V = std::vector<Tensor>;
  namespace k = kernels;
  const InputSpec a34{{3, 4}}, pos34{{3, 4}, Fill::positive}, square{{4, 4}, Fill::matrix};
  const InputSpec qkv{{1, 2, 4, 3}};
  return {
      {"copy", {a34}, [](const V& in) { return V{k::copy(in[0].transpose(0, 1))}; }},
      {"copy_into", {a34, {{4}}}, [](const V& in) {
         Tensor dst = Tensor::empty({4, 3}, in[0].dtype(), in[0].device());
         k::copy_into(dst, in[0].transpose(0, 1));
         Tensor broadcast = Tensor::empty({3, 4}, in[0].dtype(), in[0].device());
         k::copy_into(broadcast, in[1]);
         return V{dst, broadcast};
       }},
      {"cast", {a34}, [](const V& in) { return V{k::cast(in[0], DType::f64), k::cast(in[0], DType::f32)}; }},
      {"upcast_half", {a34}, [](const V& in) { return V{k::upcast_half(in[0])}; }},
      {"fill", {a34}, [](const V& in) {
         Tensor t = k::copy(in[0]);
         Tensor column = t.slice(1, 1, 2);
         k::fill(column, 3.0);
         return V{t};
       }},
      {"unary", {a34, pos34}, [](const V& in) {
         V out;
         for (UnaryOp op : kUnaryOps) out.push_back(k::unary(op, in[needs_positive(op) ? 1 : 0].transpose(0, 1), 2.5));
         return out;
       }},
      {"unary_backward", {a34, pos34, a34}, [](const V& in) {
         V out;
         for (UnaryOp op : kUnaryOps) {
           const Tensor& x = in[needs_positive(op) ? 1 : 0];
           out.push_back(k::unary_backward(op, x, k::unary(op, x, 2.5), in[2], 2.5));
         }
         return out;
       }},
      {"binary", {a34, {{4}, Fill::positive}}, [](const V& in) {
         V out;
         for (BinaryOp op : {BinaryOp::add, BinaryOp::sub, BinaryOp::mul, BinaryOp::div})
           out.push_back(k::binary(op, in[0], in[1]));
         return out;
       }},
      {"add_inplace", {a34, {{4}}}, [](const V& in) {
         Tensor dst = k::copy(in[0]);
         k::add_inplace(dst, in[1], 0.5);
         Tensor columns = dst.slice(1, 1, 3);  // a strided destination, a column-major source
         k::add_inplace(columns, k::copy(in[0].transpose(0, 1)).slice(0, 0, 2).transpose(0, 1), -2.0);
         return V{dst};
       }},
      {"scale_shift", {a34}, [](const V& in) { return V{k::scale_shift(in[0].transpose(0, 1), 1.5, -0.25)}; }},
      {"sum", {{{2, 3, 4}}}, [](const V& in) {
         return V{k::sum(in[0], {0, 2}, false), k::sum(in[0], {1}, true), k::sum(in[0].transpose(0, 2), {2}, false)};
       }},
      {"sum_to", {{{2, 3, 4}}}, [](const V& in) { return V{k::sum_to(in[0], {3, 1})}; }},
      {"max", {{{2, 3, 4}}}, [](const V& in) {
         Tensor indices, last_indices;
         Tensor values = k::max(in[0], 1, false, &indices);
         Tensor last = k::max(in[0].transpose(0, 2), -1, true, &last_indices);
         return V{values, indices, last, last_indices};
       }},
      {"sum_all", {a34}, [](const V& in) { return V{Tensor::scalar(k::sum_all(in[0]), DType::f64)}; }, true},
      {"matmul", {{{2, 3, 4}}, {{4, 5}}}, [](const V& in) {
         return V{k::matmul(in[0], in[1]), k::matmul(in[0], in[0], false, true), k::matmul(in[1], in[0], true, true)};
       }},
      {"linear", {{{2, 3, 4}}, {{5, 4}}, {{5}}}, [](const V& in) {
         return V{k::linear(in[0], in[1], in[2]), k::linear(in[0].transpose(0, 1), in[1], Tensor())};
       }},
      {"conv2d", {{{2, 3, 5, 5}}, {{4, 3, 3, 3}}}, [](const V& in) {
         return V{k::conv2d(in[0], in[1], 1), k::conv2d(in[0], in[1], 0)};
       }},
      {"conv2d_backward", {{{2, 3, 5, 5}}, {{4, 3, 3, 3}}, {{2, 4, 5, 5}}}, [](const V& in) {
         Tensor gx, gw;
         k::conv2d_backward(in[0], in[1], in[2], 1, &gx, &gw);
         return V{gx, gw};
       }},
      {"layer_norm", {{{3, 6}}, {{6}}, {{6}}}, [](const V& in) {
         Tensor mean, rstd;
         Tensor y = k::layer_norm(in[0], in[1], in[2], 1e-5, &mean, &rstd);
         Tensor plain = k::layer_norm(in[0].transpose(0, 1), Tensor(), Tensor(), 1e-5, nullptr, nullptr);
         return V{y, mean, rstd, plain};
       }},
      {"layer_norm_backward", {{{3, 6}}, {{3, 6}}, {{6}}}, [](const V& in) {
         Tensor mean, rstd, gx, gw, gb;
         k::layer_norm(in[1], in[2], Tensor(), 1e-5, &mean, &rstd);
         k::layer_norm_backward(in[0], in[1], in[2], mean, rstd, &gx, &gw, &gb);
         return V{gx, gw, gb};
       }},
      {"softmax", {{{3, 6}}}, [](const V& in) { return V{k::softmax(in[0]), k::softmax(in[0].transpose(0, 1))}; }},
      {"channel_affine", {{{2, 3, 4, 5}}, {{3}}, {{1, 3, 1, 1}}}, [](const V& in) {
         return V{k::channel_affine(in[0], in[1], in[2]), k::channel_affine(in[0].transpose(2, 3), in[1], in[2])};
       }},
      {"channel_affine_backward", {{{2, 3, 4, 5}}, {{2, 3, 4, 5}}, {{3}}}, [](const V& in) {
         Tensor gx, gb, gs;
         k::channel_affine_backward(in[0], in[1], in[2], &gx, &gb, &gs);
         return V{gx, gb, gs};
       }},
      {"softmax_backward", {{{3, 6}}, {{3, 6}}}, [](const V& in) {
         return V{k::softmax_backward(k::softmax(in[0]), in[1])};
       }},
      {"causal_attention", {qkv, qkv, qkv}, [](const V& in) {
         Tensor lse;
         Tensor out = k::causal_attention(in[0], in[1], in[2], 0.5, &lse);
         return V{out, lse};
       }},
      {"causal_attention_backward", {qkv, qkv, qkv, qkv}, [](const V& in) {
         Tensor lse, gq, gk, gv;
         Tensor out = k::causal_attention(in[0], in[1], in[2], 0.5, &lse);
         // The gradient comes in the output's dtype (f32 for low-precision inputs).
         k::causal_attention_backward(in[0], in[1], in[2], out, lse, k::cast(in[3], out.dtype()), 0.5, &gq, &gk, &gv);
         return V{gq, gk, gv};
       }},
      {"cached_attention", {{{1, 2, 2, 3}}, {{1, 2, 5, 3}}, {{1, 2, 5, 3}}}, [](const V& in) {
         return V{k::cached_attention(in[0], in[1], in[2], 2, 0.5)};
       }},
      {"index_select", {{{4, 3}}, {{5}, Fill::index, 4}, {{2}, Fill::index, 3}}, [](const V& in) {
         return V{k::index_select(in[0], 0, in[1]), k::index_select(in[0].transpose(0, 1), 0, in[2])};
       }},
      {"index_add", {{{5, 3}}, {{5}, Fill::index, 4}}, [](const V& in) {
         return V{k::index_add({4, 3}, 0, in[1], in[0]), k::index_add({3, 4}, 1, in[1], in[0].transpose(0, 1))};
       }},
      {"slogdet", {square}, [](const V& in) {
         double sign = 0.0, logabsdet = 0.0;
         k::slogdet(in[0], &sign, &logabsdet);
         return V{Tensor::from_vector<double>({sign, logabsdet}, {2})};
       }, true},
      {"inverse", {square}, [](const V& in) { return V{k::inverse(in[0])}; }},
      {"triangular_solve", {{{4, 4}, Fill::lower_triangular}, {{4, 2}}}, [](const V& in) {
         return V{k::triangular_solve(in[0], in[1], true, false)};
       }},
      {"qr_orthogonal", {square}, [](const V& in) { return V{k::qr_orthogonal(in[0])}; }},
      {"lu_decompose", {square}, [](const V& in) {
         kernels::LUFactors f = k::lu_decompose(in[0]);
         return V{f.p, f.l, f.u};
       }},
      // The optimizer kernels on flat ranges: parameters, gradients, both moments.
      {"optimizer_update", {{{12}}, {{12}}, {{12}}, {{12}, Fill::positive}}, [](const V& in) {
         OptimizerScalars scalars{.beta1 = 0.9, .beta2 = 0.99, .eps = 1e-8, .l2 = 0.01, .shrink = 0.999,
                                  .step_size = 0.1, .bias_correction2_sqrt = 0.3};
         V out;
         for (OptimizerRule rule : {OptimizerRule::adam, OptimizerRule::adamax}) {
           Tensor params = k::copy(in[0]), first = k::copy(in[2]), second = k::copy(in[3]);
           k::optimizer_update(rule, scalars, params, in[1], first, second);
           out.insert(out.end(), {params, first, second});
         }
         return out;
       }},
      {"ema_update", {{{12}}, {{12}}}, [](const V& in) {
         Tensor shadow = k::copy(in[0]);
         k::ema_update(shadow, in[1], 0.9);
         return V{shadow};
       }},
      {"scale_inplace", {{{12}}}, [](const V& in) {
         Tensor x = k::copy(in[0]);
         k::scale_inplace(x, -1.5);
         return V{x};
       }},
      {"squared_norm", {a34}, [](const V& in) { return V{Tensor::scalar(k::squared_norm(in[0]), DType::f64)}; }, true},
  };
}

bool is_integer(DType d) { return !is_floating(d); }

// The case's inputs in f64 on the host: integers for integer dtypes, so every
// dtype holds them exactly; square matrices well conditioned.
Tensor draw_input(const InputSpec& spec, DType dtype, uint64_t stream) {
  Generator gen(11, stream);
  if (spec.fill == Fill::index) {
    std::vector<int64_t> values(size_t(numel_of(spec.shape)));
    for (auto& v : values) v = int64_t(gen.next_below(uint64_t(spec.index_limit)));
    return Tensor::from_vector(values, spec.shape);
  }
  const bool positive = spec.fill == Fill::positive;
  std::vector<double> values = uniform(spec.shape, positive ? 0.5 : -1.0, 2.0, gen, DType::f64).to_double_vector();
  if (is_integer(dtype))
    for (double& v : values) v = std::round((v + 1.0) * 20.0);
  if (spec.fill == Fill::matrix || spec.fill == Fill::lower_triangular) {
    const int64_t n = spec.shape[0];
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double& v = values[size_t(i * n + j)];
        if (spec.fill == Fill::lower_triangular && j > i) v = 0.0;
        if (i == j) v += 3.0;
      }
  }
  return Tensor::from_vector(values, spec.shape);
}

// By the dtype an output is in: its rounding, or that of the f32 the kernels
// compute low-precision inputs in.
double tolerance_for(DType output) {
  switch (output) {
    case DType::f64: return 1e-12;
    case DType::f32: return 1e-5;
    case DType::f16: return 1e-3;
    case DType::bf16: return 8e-3;
    default: return 0.0;
  }
}

struct Outcome {
  bool ran = false;
  double worst_error = 0.0;
};

// Runs one (case, dtype) on device against the f64 CPU reference.
Outcome run_case(const OpCase& c, DType dtype, Device device) {
  std::vector<Tensor> on_device, reference;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    Tensor drawn = draw_input(c.inputs[i], dtype, i);
    if (c.inputs[i].fill == Fill::index) {
      on_device.push_back(drawn.to(device));
      reference.push_back(drawn);
    } else {
      Tensor rounded = kernels::cast(drawn, dtype);
      on_device.push_back(rounded.to(device));
      reference.push_back(kernels::cast(rounded, DType::f64));
    }
  }
  const std::string what = fmt::format("{} {} on {}", c.op, dtype_name(dtype), device.str());
  std::vector<Tensor> got = c.run(on_device);
  std::vector<Tensor> expected = c.run(reference);
  BOOST_TEST_REQUIRE(got.size() == expected.size(), what);
  Outcome outcome{true, 0.0};
  for (size_t i = 0; i < got.size(); ++i) {
    const std::string output = fmt::format("{}, output {}", what, i);
    if (!c.host_result) BOOST_TEST((got[i].device() == device), output << " is on " << got[i].device().str());
    Tensor host = got[i].to(Device::cpu());
    // A number answered on the host is judged by the input dtype it was computed in.
    const double tolerance = tolerance_for(c.host_result ? dtype : host.dtype());
    double error = testing::check_close(output, kernels::cast(host, DType::f64), kernels::cast(expected[i], DType::f64),
                                        tolerance);
    outcome.worst_error = std::max(outcome.worst_error, error);
  }
  return outcome;
}

// op -> dtype -> outcome, for one backend.
using Coverage = std::map<std::string, std::map<DType, Outcome>>;

Coverage run_backend(Device device) {
  Coverage coverage;
  for (const OpCase& c : op_cases()) {
    const kernels::OpCoverage* op = nullptr;
    for (const kernels::OpCoverage* candidate : kernels::kernel_table().ops())
      if (c.op == candidate->name) op = candidate;
    BOOST_TEST_REQUIRE(op != nullptr, c.op << " is not an op of the kernel table");
    for (DType dtype : op->dtypes[size_t(device.kind)].list()) {
      try {
        coverage[c.op][dtype] = run_case(c, dtype, device);
      } catch (const Error& e) {
        BOOST_ERROR(c.op << " " << dtype_name(dtype) << " on " << device.str() << ": " << e.what());
      }
    }
  }
  return coverage;
}

void print_table(const std::string& backend, const Coverage& coverage) {
  std::cout << "backend " << backend << ": op, then dtype(worst error) for each registered dtype\n";
  for (const kernels::OpCoverage* op : kernels::kernel_table().ops()) {
    std::cout << fmt::format("  {:<26}", op->name);
    auto it = coverage.find(op->name);
    if (it == coverage.end() || it->second.empty()) std::cout << " unsupported";
    else
      for (const auto& [dtype, outcome] : it->second)
        std::cout << fmt::format(" {}({:.1e})", dtype_name(dtype), outcome.worst_error);
    std::cout << "\n";
  }
}

// Every op of the table is on the backend or listed as unsupported there, never both.
void check_listed(DeviceKind kind, const std::set<std::string>& unsupported) {
  for (const kernels::OpCoverage* op : kernels::kernel_table().ops()) {
    const bool has = !op->dtypes[size_t(kind)].empty();
    const bool listed = unsupported.count(op->name) > 0;
    BOOST_TEST(has != listed, op->name << " on " << kernels::device_kind_name(kind)
                                       << (has ? " has a kernel but is listed as unsupported"
                                               : " has no kernel and is not listed as unsupported"));
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(backend_ops)

BOOST_AUTO_TEST_CASE(every_op_has_a_case) {
  std::set<std::string> cased;
  for (const OpCase& c : op_cases()) cased.insert(c.op);
  for (const kernels::OpCoverage* op : kernels::kernel_table().ops()) BOOST_TEST(cased.count(op->name) == 1u, op->name);
}

BOOST_AUTO_TEST_CASE(cpu1_matches_the_f64_cpu) {
  check_listed(DeviceKind::cpu, {});
  print_table("cpu:1 (the CPU kernels on a second device)", run_backend(Device::cpu(1)));
}

BOOST_AUTO_TEST_CASE(cuda_matches_the_f64_cpu) {
#if defined(FLOWTRAIN_HAVE_CUDA)
  check_listed(DeviceKind::cuda, kUnsupportedOnCuda);  // a CPU-only build has no CUDA kernels to list
#endif
  if (!cuda_device_available()) {
    std::cout << "backend cuda:0: skipped: no CUDA device\n";
    return;
  }
  print_table("cuda:0", run_backend(Device::cuda(0)));
}

BOOST_AUTO_TEST_SUITE_END()
