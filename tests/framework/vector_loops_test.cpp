// The vector loops exist once per instruction set and are chosen at run time; they
// must compute the same function: the AVX-512 copy bit for bit against the SSE2
// one, on every unary op, forward and backward, over values that reach every
// branch of the math (tails, subnormals, infinities, NaN), and the bf16
// conversions against the scalar rounding of framework/core/half.h.
#include <boost/test/unit_test.hpp>

#include <algorithm>
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

// One query row of attention: against softmax(scale k q) v in double, and the same bits
// on every instruction set, over widths and key counts that leave vector tails.
BOOST_AUTO_TEST_CASE(attention_row_is_softmax_weighted_values_on_every_isa) {
  std::vector<const vl::Table*> tables{&vl::baseline()};
  if (vl::avx512()) tables.push_back(vl::avx512());
  uint32_t state = 12345;
  auto next = [&] { return float((state = state * 1664525u + 1013904223u) >> 8) / float(1 << 24) * 4.0f - 2.0f; };
  for (int64_t d : {1, 15, 16, 64, 70, 130})
    for (int64_t keys : {1, 2, 17, 33, 64}) {
      const int64_t stride = d + 3;  // rows apart by more than their width
      std::vector<float> q(static_cast<size_t>(d)), k(static_cast<size_t>(keys * stride)), v(k.size());
      for (float& x : q) x = next();
      for (float& x : k) x = next();
      for (float& x : v) x = next();
      const float scale = 0.37f;
      std::vector<double> scores(static_cast<size_t>(keys)), want(q.size(), 0.0);
      double top = -1e300, total = 0;
      for (int64_t j = 0; j < keys; ++j) {
        double s = 0;
        for (int64_t c = 0; c < d; ++c) s += double(q[size_t(c)]) * k[size_t(j * stride + c)];
        top = std::max(top, scores[size_t(j)] = s * scale);
      }
      for (double& s : scores) total += s = std::exp(s - top);
      for (int64_t j = 0; j < keys; ++j)
        for (int64_t c = 0; c < d; ++c) want[size_t(c)] += scores[size_t(j)] / total * v[size_t(j * stride + c)];
      std::vector<std::vector<float>> got;
      for (const vl::Table* t : tables) {
        std::vector<float> out(q.size()), scratch(scores.size());
        t->attention_row(q.data(), k.data(), v.data(), keys, d, stride, scale, scratch.data(), out.data());
        double worst = 0;
        for (int64_t c = 0; c < d; ++c) worst = std::max(worst, std::abs(out[size_t(c)] - want[size_t(c)]));
        BOOST_TEST(worst < 2e-5, t->isa << " d " << d << " keys " << keys << ": error " << worst);
        got.push_back(out);
      }
      if (got.size() == 2) BOOST_TEST(same_bits(got[0], got[1]), "d " << d << " keys " << keys);
    }
}

// Layer norm rows, forward and backward, against the same formulas in double, and the
// same bits on every instruction set (d with and without vector tails; with and
// without weight and bias).
BOOST_AUTO_TEST_CASE(layer_norm_rows_match_double_on_every_isa) {
  std::vector<const vl::Table*> tables{&vl::baseline()};
  if (vl::avx512()) tables.push_back(vl::avx512());
  uint32_t state = 777;
  auto next = [&] { return float((state = state * 1664525u + 1013904223u) >> 8) / float(1 << 24) * 4.0f - 1.0f; };
  for (int64_t d : {1, 7, 16, 33, 256})
    for (bool affine : {false, true}) {
      std::vector<float> x(static_cast<size_t>(d)), g(x.size()), w(x.size()), b(x.size());
      for (size_t i = 0; i < x.size(); ++i) x[i] = next(), g[i] = next(), w[i] = next(), b[i] = next();
      const float* pw = affine ? w.data() : nullptr;
      const float* pb = affine ? b.data() : nullptr;
      double mu = 0, var = 0;
      for (float v : x) mu += v;
      mu /= double(d);
      for (float v : x) var += (v - mu) * (v - mu);
      const double inv = 1.0 / std::sqrt(var / double(d) + 1e-5);
      double mean_g = 0, mean_gx = 0;
      for (size_t i = 0; i < x.size(); ++i) {
        const double gh = g[i] * (affine ? w[i] : 1.0);
        mean_g += gh / double(d);
        mean_gx += gh * (x[i] - mu) * inv / double(d);
      }
      std::vector<std::vector<float>> outputs;
      for (const vl::Table* t : tables) {
        std::vector<float> y(x.size()), gx(x.size());
        std::vector<double> sw(x.size(), 0.0), sb(x.size(), 0.0);
        float mean = 0, rstd = 0;
        t->layer_norm_row(x.data(), pw, pb, d, 1e-5, y.data(), &mean, &rstd);
        t->layer_norm_backward_row(x.data(), g.data(), pw, d, mean, rstd, gx.data(), sw.data(), sb.data());
        double worst = 0;
        for (size_t i = 0; i < x.size(); ++i) {
          const double xhat = (x[i] - mu) * inv;
          const double want_y = xhat * (affine ? w[i] : 1.0) + (affine ? b[i] : 0.0);
          const double gh = g[i] * (affine ? w[i] : 1.0);
          const double want_gx = inv * (gh - mean_g - xhat * mean_gx);
          worst = std::max({worst, std::abs(y[i] - want_y), std::abs(gx[i] - want_gx) / std::max(1.0, inv),
                            std::abs(sw[i] - g[i] * xhat), std::abs(sb[i] - g[i])});
        }
        BOOST_TEST(worst < 2e-5, t->isa << " d " << d << ": error " << worst);
        y.insert(y.end(), gx.begin(), gx.end());
        outputs.push_back(y);
      }
      if (outputs.size() == 2) BOOST_TEST(same_bits(outputs[0], outputs[1]), "d " << d);
    }
}

BOOST_AUTO_TEST_SUITE_END()
