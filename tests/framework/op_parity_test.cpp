// Forward and backward parity of every differentiable op against PyTorch.
//
// tests/golden/make_op_golden.py (CTest test golden_ops, a fixture that runs
// first) writes ${build}/golden/ops.h5: per case the f32 inputs, PyTorch's
// output, a random upstream gradient and PyTorch's gradient of every input.
// Here each case is rebuilt with framework/ops/ops.h, run forward, backward from
// the same upstream gradient, and every output and input gradient is compared.
//
// Every case runs twice: with dense inputs, and with every input of rank >= 2 fed
// as a transposed view of a leaf (non-contiguous strides), so ops that take
// strided inputs are checked on them too; the leaf's gradient is transposed back
// before the comparison.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <exception>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "framework/ops/ops.h"
#include "tests/support/golden_file.h"
#include "tests/support/tensor_compare.h"

namespace {

using ft::Tensor;
using ft::testing::GoldenFile;
using ft::testing::GoldenGroup;

// The requirement: forward and backward agree to 1e-5 relative in f32, in
// the tests' one metric (tests/support/tensor_compare.h): error relative to the
// tensor's scale, max|ours - torch| / max|torch|.
constexpr double kRelTol = 1e-5;

// Builds the op of one case from its inputs (in golden order) and returns its outputs.
using OpFn = std::function<std::vector<Tensor>(const GoldenGroup&, const std::vector<Tensor>&)>;

std::vector<Tensor> one(Tensor t) { return {std::move(t)}; }
bool flag(const GoldenGroup& c, const char* name) { return c.attr_int(name) != 0; }

// How to rebuild each golden `op` attribute in C++. The keys must be exactly the
// ops in the golden file: test case `every_golden_op_is_checked` enforces it.
const std::map<std::string, OpFn>& registry() {
  static const std::map<std::string, OpFn> ops = [] {
    std::map<std::string, OpFn> m;
    using In = const std::vector<Tensor>&;
    // element-wise
    m["add"] = [](const GoldenGroup&, In in) { return one(ft::add(in[0], in[1])); };
    m["sub"] = [](const GoldenGroup&, In in) { return one(ft::sub(in[0], in[1])); };
    m["mul"] = [](const GoldenGroup&, In in) { return one(ft::mul(in[0], in[1])); };
    m["div"] = [](const GoldenGroup&, In in) { return one(ft::div(in[0], in[1])); };
    m["add_scalar"] = [](const GoldenGroup& c, In in) { return one(ft::add(in[0], c.attr_double("scalar"))); };
    m["mul_scalar"] = [](const GoldenGroup& c, In in) { return one(ft::mul(in[0], c.attr_double("scalar"))); };
    m["neg"] = [](const GoldenGroup&, In in) { return one(ft::neg(in[0])); };
    m["exp"] = [](const GoldenGroup&, In in) { return one(ft::exp(in[0])); };
    m["log"] = [](const GoldenGroup&, In in) { return one(ft::log(in[0])); };
    m["sqrt"] = [](const GoldenGroup&, In in) { return one(ft::sqrt(in[0])); };
    m["square"] = [](const GoldenGroup&, In in) { return one(ft::square(in[0])); };
    m["pow"] = [](const GoldenGroup& c, In in) { return one(ft::pow(in[0], c.attr_double("exponent"))); };
    m["abs"] = [](const GoldenGroup&, In in) { return one(ft::abs(in[0])); };
    m["sigmoid"] = [](const GoldenGroup&, In in) { return one(ft::sigmoid(in[0])); };
    m["log_sigmoid"] = [](const GoldenGroup&, In in) { return one(ft::log_sigmoid(in[0])); };
    m["softplus"] = [](const GoldenGroup&, In in) { return one(ft::softplus(in[0])); };
    m["tanh"] = [](const GoldenGroup&, In in) { return one(ft::tanh(in[0])); };
    m["relu"] = [](const GoldenGroup&, In in) { return one(ft::relu(in[0])); };
    m["gelu"] = [](const GoldenGroup&, In in) { return one(ft::gelu(in[0])); };
    // reductions
    m["sum"] = [](const GoldenGroup& c, In in) {
      return one(c.has_attr("all_dims") ? ft::sum(in[0]) : ft::sum(in[0], c.attr_ints("dims"), flag(c, "keepdim")));
    };
    m["mean"] = [](const GoldenGroup& c, In in) {
      return one(c.has_attr("all_dims") ? ft::mean(in[0])
                                        : ft::mean(in[0], c.attr_ints("dims"), flag(c, "keepdim")));
    };
    m["max"] = [](const GoldenGroup& c, In in) {
      return one(ft::max(in[0], c.attr_int("dim"), flag(c, "keepdim")));
    };
    // products
    m["matmul"] = [](const GoldenGroup&, In in) { return one(ft::matmul(in[0], in[1])); };
    m["linear"] = [](const GoldenGroup& c, In in) {
      return one(ft::linear(in[0], in[1], flag(c, "has_bias") ? in[2] : Tensor()));
    };
    m["conv2d"] = [](const GoldenGroup& c, In in) {
      return one(ft::conv2d(in[0], in[1], flag(c, "has_bias") ? in[2] : Tensor(), c.attr_int("padding")));
    };
    // normalisation and attention
    m["layer_norm"] = [](const GoldenGroup& c, In in) {
      size_t next = 1;
      Tensor weight = flag(c, "has_weight") ? in[next++] : Tensor();
      Tensor bias = flag(c, "has_bias") ? in[next++] : Tensor();
      return one(ft::layer_norm(in[0], weight, bias, c.attr_double("eps")));
    };
    m["softmax"] = [](const GoldenGroup& c, In in) { return one(ft::softmax(in[0], c.attr_int("dim"))); };
    m["log_softmax"] = [](const GoldenGroup& c, In in) { return one(ft::log_softmax(in[0], c.attr_int("dim"))); };
    m["causal_attention"] = [](const GoldenGroup& c, In in) {
      // No scale attribute: the op's default 1/sqrt(D) (0.0 asks for it).
      double scale = c.has_attr("scale") ? c.attr_double("scale") : 0.0;
      return one(ft::causal_attention(in[0], in[1], in[2], scale));
    };
    // shape and indexing
    m["concat"] = [](const GoldenGroup& c, In in) { return one(ft::concat(in, c.attr_int("dim"))); };
    m["split"] = [](const GoldenGroup& c, In in) {
      return ft::split(in[0], c.attr_ints("sizes"), c.attr_int("dim"));
    };
    m["chunk"] = [](const GoldenGroup& c, In in) {
      return ft::chunk(in[0], c.attr_int("chunks"), c.attr_int("dim"));
    };
    m["flip"] = [](const GoldenGroup& c, In in) { return one(ft::flip(in[0], c.attr_int("dim"))); };
    m["index_select"] = [](const GoldenGroup& c, In in) {
      return one(ft::index_select(in[0], c.attr_int("dim"), in[1]));
    };
    m["space_to_depth"] = [](const GoldenGroup& c, In in) {
      return one(ft::space_to_depth(in[0], c.attr_int("factor")));
    };
    m["depth_to_space"] = [](const GoldenGroup& c, In in) {
      return one(ft::depth_to_space(in[0], c.attr_int("factor")));
    };
    // views (Tensor methods)
    m["reshape"] = [](const GoldenGroup& c, In in) { return one(in[0].reshape(c.attr_ints("shape"))); };
    m["permute"] = [](const GoldenGroup& c, In in) { return one(in[0].permute(c.attr_ints("order"))); };
    m["transpose"] = [](const GoldenGroup& c, In in) {
      std::vector<int64_t> dims = c.attr_ints("dims");
      return one(in[0].transpose(dims.at(0), dims.at(1)));
    };
    m["slice"] = [](const GoldenGroup& c, In in) {
      return one(in[0].slice(c.attr_int("dim"), c.attr_int("start"), c.attr_int("end")));
    };
    m["select"] = [](const GoldenGroup& c, In in) { return one(in[0].select(c.attr_int("dim"), c.attr_int("index"))); };
    m["expand"] = [](const GoldenGroup& c, In in) { return one(in[0].expand(c.attr_ints("shape"))); };
    m["unsqueeze"] = [](const GoldenGroup& c, In in) { return one(in[0].unsqueeze(c.attr_int("dim"))); };
    m["flatten"] = [](const GoldenGroup& c, In in) {
      return one(in[0].flatten(c.attr_int("start"), c.attr_int("end")));
    };
    // small linear algebra
    m["logabsdet"] = [](const GoldenGroup& c, In in) {
      double sign = 0.0;
      Tensor y = ft::logabsdet(in[0], &sign);
      BOOST_CHECK_MESSAGE(sign == c.attr_double("sign"),
                          c.name() << ": sign of det " << sign << ", torch " << c.attr_double("sign"));
      return one(y);
    };
    m["inverse"] = [](const GoldenGroup&, In in) { return one(ft::inverse(in[0])); };
    m["triangular_solve"] = [](const GoldenGroup& c, In in) {
      return one(ft::triangular_solve(in[0], in[1], flag(c, "lower"), flag(c, "unit_diagonal")));
    };
    return m;
  }();
  return ops;
}

// ---- the golden file ------------------------------------------------------------------------

// Opened once per process; BOOST_REQUIRE fails the calling test case when it is missing.
const GoldenFile& golden() {
  static const GoldenFile file("ops.h5", "golden_ops");
  return file;
}

// Case names of every op in the file.
const std::map<std::string, std::vector<std::string>>& cases_by_op() {
  static const std::map<std::string, std::vector<std::string>> by_op = [] {
    std::map<std::string, std::vector<std::string>> m;
    for (const std::string& name : golden().case_names()) m[golden().open_case(name).attr_string("op")].push_back(name);
    return m;
  }();
  return by_op;
}

// ---- comparison -------------------------------------------------------------------------------

// Checks one tensor against torch's: the shapes match exactly and the error
// relative to the tensor's scale is at most kRelTol (a NaN or infinity never passes).
double compare(const std::string& what, const Tensor& ours, const Tensor& torch_value) {
  return ft::testing::check_close(what, ours, torch_value, kRelTol);
}

// ---- running one op ---------------------------------------------------------------------------

enum class Layout { dense, transposed };
const char* layout_name(Layout layout) { return layout == Layout::dense ? "dense" : "transposed views"; }

// Runs one case in one layout; returns the worst error relative to scale seen.
double run_case(const GoldenGroup& c, const OpFn& fn, Layout layout) {
  const std::string label = c.name() + " (" + layout_name(layout) + ")";
  const int64_t num_inputs = c.attr_int("num_inputs");
  const int64_t num_outputs = c.attr_int("num_outputs");

  std::vector<Tensor> leaves, inputs;
  std::vector<bool> via_transpose;
  for (int64_t i = 0; i < num_inputs; ++i) {
    Tensor value = c.tensor("input" + std::to_string(i));
    bool floating = value.dtype() == ft::DType::f32;
    bool transpose = floating && layout == Layout::transposed && value.dim() >= 2;
    // The leaf holds the data transposed; the op sees a strided view with the golden shape.
    Tensor leaf = transpose ? value.transpose(-1, -2).contiguous() : value;
    if (floating) leaf.set_requires_grad(true);
    leaves.push_back(leaf);
    inputs.push_back(transpose ? leaf.transpose(-1, -2) : leaf);
    via_transpose.push_back(transpose);
  }

  double worst = 0.0;
  std::vector<Tensor> outputs = fn(c, inputs);
  BOOST_REQUIRE_MESSAGE(int64_t(outputs.size()) == num_outputs,
                        label << ": " << outputs.size() << " outputs, torch " << num_outputs);
  auto output_name = [&](const char* stem, size_t i) {
    return std::string(stem) + (num_outputs == 1 ? std::string() : std::to_string(i));
  };
  for (size_t i = 0; i < outputs.size(); ++i)
    worst = std::max(worst, compare(label + " " + output_name("output", i), outputs[i],
                                    c.tensor(output_name("output", i))));

  // Backward from every output; gradients accumulate into the leaves as in
  // torch.autograd.backward(outputs, grad_outputs). Outputs may share graph
  // nodes (the transposed views), so all but the last keep the graph.
  for (size_t i = 0; i < outputs.size(); ++i) {
    BOOST_REQUIRE_MESSAGE(outputs[i].requires_grad(), label << " " << output_name("output", i)
                                                            << " does not require grad");
    outputs[i].backward(c.tensor(output_name("grad_output", i)), i + 1 < outputs.size());
  }
  for (size_t i = 0; i < leaves.size(); ++i) {
    if (!leaves[i].requires_grad()) continue;
    std::string name = "grad_input" + std::to_string(i);
    Tensor grad = leaves[i].grad();
    BOOST_CHECK_MESSAGE(grad.defined(), label << " " << name << ": no gradient reached input " << i);
    if (!grad.defined()) continue;
    if (via_transpose[i]) grad = grad.transpose(-1, -2);
    worst = std::max(worst, compare(label + " " + name, grad, c.tensor(name)));
  }
  return worst;
}

// Checks every golden case of op in both layouts; a case that throws is reported
// and the others still run.
void check_op(const std::string& op) {
  auto fn = registry().find(op);
  BOOST_REQUIRE_MESSAGE(fn != registry().end(), "no C++ builder for op " << op);
  auto cases = cases_by_op().find(op);
  BOOST_REQUIRE_MESSAGE(cases != cases_by_op().end(),
                        "no golden cases for op " << op << " in " << golden().path()
                                                  << "; is tests/golden/make_op_golden.py up to date?");
  double worst = 0.0;
  for (const std::string& name : cases->second) {
    GoldenGroup c = golden().open_case(name);
    for (Layout layout : {Layout::dense, Layout::transposed}) {
      try {
        worst = std::max(worst, run_case(c, fn->second, layout));
      } catch (const std::exception& e) {
        BOOST_CHECK_MESSAGE(false, name << " (" << layout_name(layout) << ") threw: " << e.what());
      }
    }
  }
  BOOST_TEST_MESSAGE(op << ": " << cases->second.size() << " cases, worst |diff| / scale " << worst);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(op_parity)

BOOST_AUTO_TEST_CASE(every_golden_op_is_checked) {
  std::set<std::string> in_file, in_registry;
  for (const auto& [op, names] : cases_by_op()) in_file.insert(op);
  for (const auto& [op, fn] : registry()) in_registry.insert(op);
  for (const std::string& op : in_file)
    BOOST_CHECK_MESSAGE(in_registry.count(op), "golden op " << op << " has no C++ builder in op_parity_test.cpp");
  for (const std::string& op : in_registry)
    BOOST_CHECK_MESSAGE(in_file.count(op), "op " << op << " has no golden case in " << golden().path());
}

// One test case per op, so a failure names it (run one: --run_test=op_parity/<op>).
#define FT_OP_PARITY_CASE(op) \
  BOOST_AUTO_TEST_CASE(op) { check_op(#op); }

FT_OP_PARITY_CASE(add)
FT_OP_PARITY_CASE(sub)
FT_OP_PARITY_CASE(mul)
FT_OP_PARITY_CASE(div)
FT_OP_PARITY_CASE(add_scalar)
FT_OP_PARITY_CASE(mul_scalar)
FT_OP_PARITY_CASE(neg)
FT_OP_PARITY_CASE(exp)
FT_OP_PARITY_CASE(log)
FT_OP_PARITY_CASE(sqrt)
FT_OP_PARITY_CASE(square)
FT_OP_PARITY_CASE(pow)
FT_OP_PARITY_CASE(abs)
FT_OP_PARITY_CASE(sigmoid)
FT_OP_PARITY_CASE(log_sigmoid)
FT_OP_PARITY_CASE(softplus)
FT_OP_PARITY_CASE(tanh)
FT_OP_PARITY_CASE(relu)
FT_OP_PARITY_CASE(gelu)
FT_OP_PARITY_CASE(sum)
FT_OP_PARITY_CASE(mean)
FT_OP_PARITY_CASE(max)
FT_OP_PARITY_CASE(matmul)
FT_OP_PARITY_CASE(linear)
FT_OP_PARITY_CASE(conv2d)
FT_OP_PARITY_CASE(layer_norm)
FT_OP_PARITY_CASE(softmax)
FT_OP_PARITY_CASE(log_softmax)
FT_OP_PARITY_CASE(causal_attention)
FT_OP_PARITY_CASE(concat)
FT_OP_PARITY_CASE(split)
FT_OP_PARITY_CASE(chunk)
FT_OP_PARITY_CASE(flip)
FT_OP_PARITY_CASE(index_select)
FT_OP_PARITY_CASE(space_to_depth)
FT_OP_PARITY_CASE(depth_to_space)
FT_OP_PARITY_CASE(reshape)
FT_OP_PARITY_CASE(permute)
FT_OP_PARITY_CASE(transpose)
FT_OP_PARITY_CASE(slice)
FT_OP_PARITY_CASE(select)
FT_OP_PARITY_CASE(expand)
FT_OP_PARITY_CASE(unsqueeze)
FT_OP_PARITY_CASE(flatten)
FT_OP_PARITY_CASE(logabsdet)
FT_OP_PARITY_CASE(inverse)
FT_OP_PARITY_CASE(triangular_solve)

BOOST_AUTO_TEST_SUITE_END()
