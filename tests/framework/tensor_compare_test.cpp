// The tests' one comparison metric (tests/support/tensor_compare.h) on known inputs:
// what every parity test's tolerance means.
#include "tests/support/tensor_compare.h"

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>

using ft::Tensor;
using ft::testing::compare;

BOOST_AUTO_TEST_SUITE(tensor_compare)

BOOST_AUTO_TEST_CASE(error_is_relative_to_the_largest_expected_magnitude) {
  Tensor expected = Tensor::from_vector<float>({4.0f, -8.0f, 0.0f}, {3});
  Tensor actual = Tensor::from_vector<float>({4.0f, -8.0f, 0.04f}, {3});
  auto a = compare(actual, expected);
  // 0.04 off on an element that should be 0: judged by the scale 8, not by 0.
  BOOST_TEST(a.error == 0.04f / 8.0, boost::test_tools::tolerance(1e-6));
  BOOST_TEST(a.scale == 8.0);
  BOOST_TEST(a.worst_index == 2u);
  BOOST_TEST(compare(expected, expected).error == 0.0);
}

BOOST_AUTO_TEST_CASE(nan_infinity_and_shape_mismatch_never_pass) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor expected = Tensor::from_vector<float>({1.0f, 2.0f}, {2});
  BOOST_TEST(std::isinf(compare(Tensor::from_vector<float>({1.0f, nan}, {2}), expected).error));
  BOOST_TEST(std::isinf(compare(Tensor::from_vector<float>({1.0f, INFINITY}, {2}), expected).error));
  BOOST_TEST(std::isinf(compare(Tensor::from_vector<float>({1.0f, 2.0f}, {1, 2}), expected).error));
  BOOST_TEST(!compare(Tensor::from_vector<float>({1.0f, 2.0f}, {1, 2}), expected).shapes_match);
  BOOST_TEST(std::isinf(ft::testing::max_abs_difference(Tensor::from_vector<float>({1.0f, nan}, {2}), expected)));
}

BOOST_AUTO_TEST_CASE(an_all_zero_reference_must_be_matched_exactly) {
  Tensor zeros = Tensor::zeros({3});
  BOOST_TEST(compare(zeros, zeros).error == 0.0);
  BOOST_TEST(compare(Tensor::from_vector<float>({0.0f, 1e-20f, 0.0f}, {3}), zeros).error > 1.0);
}

BOOST_AUTO_TEST_SUITE_END()
