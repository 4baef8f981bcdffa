// The kernel table and devices: a missing (op, device, dtype) is an error naming all
// three; tensors of cpu:0 and cpu:1 never meet in a kernel; outputs, gradients and
// moved modules land on their inputs' device.
#include <boost/test/unit_test.hpp>
#include <string>

#include "framework/kernels/dispatch.h"
#include "framework/kernels/kernels.h"
#include "framework/nn/linear.h"
#include "framework/ops/ops.h"

using namespace ft;

namespace {

const Device kCpu1 = Device::cpu(1);

// Runs fn, which must throw ft::Error, and returns the message.
template <class Fn>
std::string error_of(Fn fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  BOOST_FAIL("expected an ft::Error");
  return "";
}

bool mentions(const std::string& message, const std::string& part) {
  return message.find(part) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dispatch)

BOOST_AUTO_TEST_CASE(a_missing_kernel_names_op_device_and_dtype) {
  Tensor x = Tensor::ones({2, 3}, DType::bf16, kCpu1);
  std::string message = error_of([&] { kernels::unary(UnaryOp::exp, x); });
  BOOST_TEST_INFO(message);
  BOOST_TEST((mentions(message, "kernels::unary ") && mentions(message, "cpu:1") && mentions(message, "bf16")));
  message = error_of([&] { kernels::index_add({4}, 0, Tensor::zeros({1}, DType::i64), Tensor::ones({1}, DType::i32)); });
  BOOST_TEST_INFO(message);
  BOOST_TEST((mentions(message, "kernels::index_add") && mentions(message, " cpu ") && mentions(message, "i32")));
}

BOOST_AUTO_TEST_CASE(the_table_covers_every_op_on_the_cpu) {
  const auto ops = kernels::kernel_table().ops();
  BOOST_TEST(ops.size() == 38u);  // the entry points of kernels.h (info_backends checks the names)
  for (const kernels::OpCoverage* op : ops) {
    BOOST_TEST_INFO(op->name);
    BOOST_TEST(op->dtypes[size_t(DeviceKind::cpu)].contains(DType::f32));
  }
}

BOOST_AUTO_TEST_CASE(cpu0_and_cpu1_tensors_do_not_mix) {
  Tensor a = Tensor::ones({2, 2});
  Tensor b = Tensor::ones({2, 2}, DType::f32, kCpu1);
  std::string message = error_of([&] { add(a, b); });
  BOOST_TEST_INFO(message);
  BOOST_TEST((mentions(message, "kernels::binary") && mentions(message, "cpu and cpu:1")));
  BOOST_CHECK_THROW(matmul(a, b), Error);
  BOOST_CHECK_THROW(concat({a, b}, 0), Error);
  BOOST_CHECK_THROW(Tensor::ones({1}, DType::f32, Device::cpu(2)), Error);
  BOOST_TEST(parse_device("cpu:1").index == 1);
  BOOST_TEST((parse_device("cuda") == Device::cuda(0)));
  BOOST_CHECK_THROW(parse_device("gpu:0"), Error);
  BOOST_CHECK_THROW(parse_device("cpu:x"), Error);
}

BOOST_AUTO_TEST_CASE(ops_allocate_on_their_inputs_device) {
  Tensor x = Tensor::arange(6, DType::f32, kCpu1).reshape({2, 3});
  BOOST_TEST(x.device().str() == "cpu:1");
  for (const Tensor& y : {exp(x), add(x, x), matmul(x, x.transpose(0, 1)), sum(x, {1}), softmax(x),
                          concat({x, x}, 0), x.slice(1, 0, 2).contiguous(), Tensor::zeros_like(x),
                          Tensor::empty_like(x), max(x, 1), flip(x, 1)}) {
    BOOST_TEST(y.device().str() == "cpu:1");
  }
  BOOST_TEST(kernels::sum_all(x) == 15.0);
}

BOOST_AUTO_TEST_CASE(gradients_come_back_to_their_devices) {
  Tensor x = Tensor::arange(4).set_requires_grad(true);
  Tensor y = x.to(kCpu1);
  BOOST_TEST(y.device().str() == "cpu:1");
  Tensor loss = sum(mul(square(y.slice(0, 1, 4)), 0.5));
  loss.backward();
  BOOST_TEST(x.grad().device().str() == "cpu");
  std::vector<double> expect{0, 1, 2, 3};
  BOOST_TEST(x.grad().to_double_vector() == expect, boost::test_tools::per_element());
}

// max scatters its gradient on the host; on another device it must come back there.
BOOST_AUTO_TEST_CASE(max_gradient_lands_on_the_input_device) {
  Tensor x = Tensor::from_vector(std::vector<float>{1, 5, 2, 7, 3, 0}, {2, 3}, kCpu1).set_requires_grad(true);
  Tensor loss = sum(mul(max(x, 1), Tensor::from_vector(std::vector<float>{2, 3}, {2}, kCpu1)));
  loss.backward();
  BOOST_TEST(x.grad().device().str() == "cpu:1");
  std::vector<double> expect{0, 2, 0, 3, 0, 0};
  BOOST_TEST(x.grad().to_double_vector() == expect, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(module_to_moves_parameters_and_buffers) {
  Generator gen(3, 0);
  nn::Linear linear(3, 2, true, gen);
  linear.to(kCpu1);
  for (const auto& [name, p] : linear.named_parameters()) {
    BOOST_TEST_INFO(name);
    BOOST_TEST(p.device().str() == "cpu:1");
    BOOST_TEST(p.requires_grad());
    BOOST_TEST(p.is_leaf());
  }
  Tensor y = linear.forward(Tensor::ones({4, 3}, DType::f32, kCpu1));
  sum(y).backward();
  BOOST_TEST(linear.weight.grad().device().str() == "cpu:1");
}

BOOST_AUTO_TEST_SUITE_END()
