// The vector loops exist once per instruction set and are chosen at run time; they
// must compute the same function: the AVX-512 copy bit for bit against the SSE2
// one, on every unary op, forward and backward, over values that reach every
// branch of the math (tails, subnormals, infinities, NaN), and the bf16
// conversions against the scalar rounding of framework/core/half.h.
#include <boost/test/unit_test.hpp>

#include <bit>
#include <cmath>
#include <limits>
#include <vector>

#include "framework/core/half.h"
#include "framework/kernels/cpu/vector_loops.h"

using namespace ft;
namespace vl = ft::kernels::vector_loops;

namespace {

// A grid over [-30, 30], the special values, and an odd length so vector tails run.
std::vector<float> probe_values() {
  std::vector<float> v;
  for (int i = -30000; i <= 30000; i += 7) v.push_back(float(i) * 1e-3f);
  const float inf = std::numeric_limits<float>::infinity();
  for (float s : {0.0f, -0.0f, 1e-40f, -1e-40f, 1e-30f, 88.7f, -104.0f, 200.0f, -200.0f, inf, -inf,
                  std::numeric_limits<float>::quiet_NaN(), 3.0e38f, 1.0f + 1.0f / 256.0f, 1.0f + 3.0f / 512.0f})
    v.push_back(s);
  return v;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  for (size_t i = 0; i < a.size(); ++i)
    if (std::bit_cast<uint32_t>(a[i]) != std::bit_cast<uint32_t>(b[i])) {
      BOOST_TEST_MESSAGE("element " << i << ": " << a[i] << " vs " << b[i]);
      return false;
    }
  return true;
}

constexpr UnaryOp kOps[] = {UnaryOp::neg,         UnaryOp::exp,      UnaryOp::log,  UnaryOp::sqrt,
                            UnaryOp::square,      UnaryOp::sigmoid,  UnaryOp::tanh, UnaryOp::log_sigmoid,
                            UnaryOp::softplus,    UnaryOp::relu,     UnaryOp::gelu, UnaryOp::abs,
                            UnaryOp::pow};

}  // namespace

BOOST_AUTO_TEST_SUITE(vector_loops)

BOOST_AUTO_TEST_CASE(the_choice_follows_the_cpu) {
  const vl::Table& best = vl::best();
  BOOST_TEST_MESSAGE("vector loops: " << best.isa);
  if (vl::avx512()) {
    BOOST_TEST(std::string(best.isa) == "avx512");
  } else {
    BOOST_TEST(std::string(best.isa) == "baseline");
  }
}

BOOST_AUTO_TEST_CASE(avx512_equals_baseline_bit_for_bit) {
  if (!vl::avx512()) {
    BOOST_TEST_MESSAGE("skipped: this CPU has no AVX-512");
    return;
  }
  const vl::Table& base = vl::baseline();
  const vl::Table& wide = *vl::avx512();
  const std::vector<float> x = probe_values();
  const int64_t n = int64_t(x.size());
  std::vector<float> g(x.size());
  for (size_t i = 0; i < g.size(); ++i) g[i] = std::sin(float(i)) * 3.0f;
  for (UnaryOp op : kOps) {
    std::vector<float> y_base(x.size()), y_wide(x.size()), gx_base(x.size()), gx_wide(x.size());
    base.unary(op, x.data(), y_base.data(), n, 1.5f);
    wide.unary(op, x.data(), y_wide.data(), n, 1.5f);
    BOOST_TEST(same_bits(y_base, y_wide), "forward of op " << int(op));
    base.unary_backward(op, x.data(), y_base.data(), g.data(), gx_base.data(), n, 1.5f);
    wide.unary_backward(op, x.data(), y_base.data(), g.data(), gx_wide.data(), n, 1.5f);
    BOOST_TEST(same_bits(gx_base, gx_wide), "backward of op " << int(op));
  }
}

BOOST_AUTO_TEST_CASE(bf16_conversions_round_as_the_scalar_type) {
  const std::vector<float> x = probe_values();
  const int64_t n = int64_t(x.size());
  std::vector<const vl::Table*> tables{&vl::baseline()};
  if (vl::avx512()) tables.push_back(vl::avx512());
  for (const vl::Table* t : tables) {
    std::vector<uint16_t> bits(x.size());
    t->float_to_bf16(x.data(), bits.data(), n);
    size_t wrong = 0;
    for (size_t i = 0; i < x.size(); ++i) wrong += bits[i] != bf16(x[i]).bits;
    BOOST_TEST(wrong == 0u, t->isa << ": " << wrong << " roundings differ from bf16(float)");
    std::vector<float> back(x.size());
    t->bf16_to_float(bits.data(), back.data(), n);
    wrong = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      const float want = float(bf16(x[i]));
      wrong += std::bit_cast<uint32_t>(back[i]) != std::bit_cast<uint32_t>(want);
    }
    BOOST_TEST(wrong == 0u, t->isa << ": " << wrong << " widenings differ from float(bf16)");
  }
}

BOOST_AUTO_TEST_SUITE_END()
