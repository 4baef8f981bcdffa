#include <omp.h>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <set>

#include "framework/random/generator.h"
#include "framework/random/philox.h"

using namespace ft;

BOOST_AUTO_TEST_SUITE(random_streams)

// Known-answer vectors of Philox4x32-10 from the Random123 distribution.
BOOST_AUTO_TEST_CASE(philox_known_answers) {
  PhiloxBlock zero = philox4x32_10(0, 0, 0);
  BOOST_TEST(zero[0] == 0x6627e8d5u);
  BOOST_TEST(zero[1] == 0xe169c58du);
  BOOST_TEST(zero[2] == 0xbc57ac4cu);
  BOOST_TEST(zero[3] == 0x9b00dbd8u);
  PhiloxBlock ones = philox4x32_10(~uint64_t(0), ~uint64_t(0), ~uint64_t(0));
  BOOST_TEST(ones[0] == 0x408f276du);
  BOOST_TEST(ones[1] == 0x41c83b0eu);
  BOOST_TEST(ones[2] == 0xa20bc7c6u);
  BOOST_TEST(ones[3] == 0x6d5451fdu);
  // counter (0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344), key (0xa4093822, 0x299f31d0)
  PhiloxBlock pi = philox4x32_10(0x299f31d0a4093822ull, 0x0370734413198a2eull, 0x85a308d3243f6a88ull);
  BOOST_TEST(pi[0] == 0xd16cfe09u);
  BOOST_TEST(pi[1] == 0x94fdccebu);
  BOOST_TEST(pi[2] == 0x5001e420u);
  BOOST_TEST(pi[3] == 0x24126ea1u);
}

BOOST_AUTO_TEST_CASE(identical_streams_at_one_and_two_threads) {
  int saved = omp_get_max_threads();
  auto draw = [](int threads) {
    omp_set_num_threads(threads);
    Generator gen(42, 3);
    Tensor n = normal({100003}, 0.0, 1.0, gen);
    Tensor u = uniform({70001}, -1.0, 2.0, gen, DType::f64);
    std::vector<double> all = n.to_double_vector();
    std::vector<double> more = u.to_double_vector();
    all.insert(all.end(), more.begin(), more.end());
    return std::make_pair(all, gen.offset());
  };
  auto one = draw(1);
  auto two = draw(2);
  omp_set_num_threads(saved);
  BOOST_TEST(one.second == two.second);
  BOOST_TEST(one.first == two.first, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(offsets_make_draws_resumable) {
  Generator a(7, 1);
  Tensor first = normal({10}, 0, 1, a);
  uint64_t mark = a.offset();
  Tensor second = normal({10}, 0, 1, a);
  Generator b(7, 1, mark);  // restored from a saved offset
  BOOST_TEST(normal({10}, 0, 1, b).to_double_vector() == second.to_double_vector(), boost::test_tools::per_element());
  BOOST_TEST(first.to_double_vector() != second.to_double_vector());
  Generator other_stream(7, 2);
  BOOST_TEST(normal({10}, 0, 1, other_stream).to_double_vector() != first.to_double_vector());
}

BOOST_AUTO_TEST_CASE(distributions_have_their_moments) {
  Generator gen(1, 0);
  std::vector<double> n = normal({200000}, 1.0, 2.0, gen, DType::f64).to_double_vector();
  double mean = 0, var = 0;
  for (double v : n) mean += v;
  mean /= double(n.size());
  for (double v : n) var += (v - mean) * (v - mean);
  var /= double(n.size());
  BOOST_TEST(std::abs(mean - 1.0) < 0.02);
  BOOST_TEST(std::abs(var - 4.0) < 0.06);
  std::vector<double> u = uniform({200000}, 0.0, 1.0, gen, DType::f64).to_double_vector();
  double umean = 0;
  for (double v : u) {
    BOOST_TEST_REQUIRE((v > 0.0 && v < 1.0));
    umean += v;
  }
  BOOST_TEST(std::abs(umean / double(u.size()) - 0.5) < 0.005);
}

// An example's draws depend on its index alone: a batch of 5 from offset 0 equals one
// of 2 from offset 0 followed by one of 3 from offset 2, for sizes on and off the
// Philox block (4 values), and a plain normal() when the size is a whole number of blocks.
BOOST_AUTO_TEST_CASE(per_example_normals_depend_on_the_example_index_alone) {
  for (Shape example : {Shape{2, 3}, Shape{1, 2, 2}}) {
    Generator whole(3, 4, 0), first(3, 4, 0), rest(3, 4, 2);
    std::vector<double> all = normal_per_example(5, example, whole, DType::f64).to_double_vector();
    std::vector<double> parts = normal_per_example(2, example, first, DType::f64).to_double_vector();
    std::vector<double> tail = normal_per_example(3, example, rest, DType::f64).to_double_vector();
    parts.insert(parts.end(), tail.begin(), tail.end());
    BOOST_TEST(all == parts, boost::test_tools::per_element());
    BOOST_TEST(whole.offset() == 5u);  // past the last example
    BOOST_TEST(first.offset() == 2u);
    BOOST_TEST(all[0] != all[size_t(numel_of(example))]);  // examples differ
  }
  Generator blocks(3, 4, 0), plain(3, 4, 0);
  std::vector<double> keyed = normal_per_example(3, {2, 2}, blocks, DType::f64).to_double_vector();
  BOOST_TEST(keyed == normal({3, 2, 2}, 0.0, 1.0, plain, DType::f64).to_double_vector(), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(permutations_are_permutations_and_depend_on_seed) {
  Generator a(5, 9), b(5, 9), c(6, 9);
  std::vector<int64_t> p = permutation(1000, a);
  BOOST_TEST(p == permutation(1000, b), boost::test_tools::per_element());
  BOOST_TEST(p != permutation(1000, c));
  std::set<int64_t> seen(p.begin(), p.end());
  BOOST_TEST(seen.size() == 1000u);
  BOOST_TEST(*seen.begin() == 0);
  BOOST_TEST(*seen.rbegin() == 999);
}

BOOST_AUTO_TEST_SUITE_END()
