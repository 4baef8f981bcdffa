// The 2-D toy sets: points that depend on the seed alone, and target densities that
// integrate to 1 and match the histogram of the generator's own points.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <numbers>

#include "datasets/toy_sets.h"
#include "tests/datasets/test_support.h"

namespace ft::datasets {
using namespace testing;

namespace {

constexpr std::array<ToySet, 5> kAllSets{ToySet::two_moons, ToySet::circles, ToySet::checkerboard,
                                         ToySet::eight_gaussians, ToySet::pinwheel};

// The density on a grid of cells of side kCell over [-kHalf, kHalf)^2, midpoint rule
// (for these smooth densities, and the checkerboard's squares on cell edges, far
// more accurate than 1e-3).
constexpr double kHalf = 7.0, kCell = 0.05;
constexpr int kCells = 280;  // 2 * kHalf / kCell

std::vector<double> density_grid(ToySet set) {
  std::vector<double> cells(size_t(kCells * kCells));
  for (int i = 0; i < kCells; ++i)
    for (int j = 0; j < kCells; ++j)
      cells[size_t(i * kCells + j)] =
          std::exp(toy_log_density(set, -kHalf + (i + 0.5) * kCell, -kHalf + (j + 0.5) * kCell)) * kCell * kCell;
  return cells;
}

// Histogram bins of side 0.5 over [-6, 6)^2: 10 x 10 grid cells each.
constexpr double kBinLow = -6.0, kBin = 0.5;
constexpr int kBins = 24, kCellsPerBin = 10, kFirstCell = 20;  // (kBinLow + kHalf) / kCell

std::vector<double> bin_probabilities(const std::vector<double>& cells) {
  std::vector<double> bins(size_t(kBins * kBins), 0.0);
  for (int i = 0; i < kBins * kCellsPerBin; ++i)
    for (int j = 0; j < kBins * kCellsPerBin; ++j)
      bins[size_t((i / kCellsPerBin) * kBins + j / kCellsPerBin)] +=
          cells[size_t((kFirstCell + i) * kCells + kFirstCell + j)];
  return bins;
}

std::vector<double> histogram(ToySet set, int64_t n, uint64_t seed) {
  std::vector<double> bins(size_t(kBins * kBins), 0.0);
  for (int64_t k = 0; k < n; ++k) {
    ToyPoint point = toy_point(set, seed, k);
    auto i = int64_t(std::floor((point.x - kBinLow) / kBin)), j = int64_t(std::floor((point.y - kBinLow) / kBin));
    if (i >= 0 && i < kBins && j >= 0 && j < kBins) bins[size_t(i * kBins + j)] += 1.0;
  }
  return bins;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(toy_sets)

BOOST_AUTO_TEST_CASE(points_depend_on_the_seed_alone) {
  for (ToySet set : kAllSets) {
    BOOST_TEST_CONTEXT(toy_set_name(set)) {
      ToySource whole(set, 100, 9), pieces(set, 100, 9), other(set, 100, 10);
      VectorBlock all, part, different;
      whole.read(100, all);
      std::vector<float> joined;
      pieces.skip(3);
      for (int64_t count : {5, 92}) {
        pieces.read(count, part);
        joined.insert(joined.end(), part.features.begin(), part.features.end());
      }
      BOOST_TEST(std::equal(joined.begin(), joined.end(), all.features.begin() + 6));
      other.read(100, different);
      BOOST_TEST(different.features != all.features);
      ToyPoint point = toy_point(set, 9, 42);
      BOOST_TEST(all.features[84] == float(point.x));
      BOOST_TEST(all.features[85] == float(point.y));
      BOOST_TEST(all.labels[42] == point.component);
      BOOST_TEST(point.component >= 0);
      BOOST_TEST(point.component < toy_set_components(set));
    }
  }
}

BOOST_AUTO_TEST_CASE(names_round_trip_and_unknown_ones_fail) {
  for (ToySet set : kAllSets) BOOST_TEST(int(toy_set_from_name(toy_set_name(set))) == int(set));
  expect_error([] { toy_set_from_name("2spirals"); }, {"'2spirals'", "two-moons"});
}

BOOST_AUTO_TEST_CASE(every_generated_point_has_a_finite_log_density) {
  for (ToySet set : kAllSets) {
    double lowest = 0.0;
    for (int64_t k = 0; k < 2000; ++k) {
      ToyPoint point = toy_point(set, 1, k);
      lowest = std::min(lowest, toy_log_density(set, point.x, point.y));
    }
    BOOST_TEST_INFO(toy_set_name(set));
    BOOST_TEST(lowest > -40.0);
  }
}

BOOST_AUTO_TEST_CASE(closed_forms_where_they_exist) {
  // Eight Gaussians at a center: that component alone, to 1e-7.
  const double var = 0.125;
  BOOST_TEST(toy_log_density(ToySet::eight_gaussians, 2.0 * std::sqrt(2.0), 0.0) ==
                 std::log(1.0 / (8.0 * 2.0 * std::numbers::pi * var)),
             boost::test_tools::tolerance(1e-7));
  BOOST_TEST(toy_log_density(ToySet::checkerboard, 0.5, 0.5) == -std::log(32.0));
  BOOST_TEST(toy_log_density(ToySet::checkerboard, -0.5, -1.5) == -std::log(32.0));
  BOOST_TEST(std::isinf(toy_log_density(ToySet::checkerboard, 2.5, 0.5)));
  BOOST_TEST(std::isinf(toy_log_density(ToySet::checkerboard, -0.5, -3.5)));
  BOOST_TEST(std::isinf(toy_log_density(ToySet::checkerboard, 4.5, 0.5)));
  // Circles: the quadrature against the Bessel closed form of a noisy circle,
  // (1 / 2 pi s^2) exp(-(r^2 + R^2) / 2 s^2) I0(r R / s^2).
  const double s2 = 0.24 * 0.24;
  for (auto [x, y] : std::vector<std::array<double, 2>>{{0, 0}, {3, 0}, {1.5, 0.1}, {2.2, -1.1}, {4, 1}, {-0.3, 0.2}}) {
    double r = std::hypot(x, y), p = 0;
    for (double radius : {3.0, 1.5})
      p += 0.5 / (2.0 * std::numbers::pi * s2) * std::exp(-(r * r + radius * radius) / (2 * s2)) *
           std::cyl_bessel_i(0.0, r * radius / s2);
    BOOST_TEST_INFO("at " << x << ", " << y);
    BOOST_TEST(toy_log_density(ToySet::circles, x, y) == std::log(p), boost::test_tools::tolerance(1e-9));
  }
}

BOOST_AUTO_TEST_CASE(densities_integrate_to_one_and_match_200k_generated_points) {
  constexpr int64_t kPoints = 200000;
  for (ToySet set : kAllSets) {
    BOOST_TEST_CONTEXT(toy_set_name(set)) {
      std::vector<double> cells = density_grid(set);
      double total = 0;
      for (double cell : cells) total += cell;
      BOOST_TEST(std::abs(total - 1.0) < 1e-3);

      std::vector<double> expected = bin_probabilities(cells), counts = histogram(set, kPoints, 2026);
      double variation = 0, chi2 = 0;
      int64_t dof = 0;
      for (size_t b = 0; b < expected.size(); ++b) {
        variation += 0.5 * std::abs(counts[b] / kPoints - expected[b]);
        double mean = expected[b] * kPoints;
        if (mean < 20) continue;
        chi2 += (counts[b] - mean) * (counts[b] - mean) / mean;
        ++dof;
      }
      BOOST_TEST_MESSAGE(toy_set_name(set) << ": integral " << total << ", total variation " << variation
                                           << ", chi2/dof " << chi2 / double(dof) << " (" << dof << " bins)");
      // Sampling noise alone gives a total variation near 0.01 and chi2/dof near 1.
      BOOST_TEST(variation < 0.025);
      BOOST_TEST(dof > 40);
      BOOST_TEST(chi2 / double(dof) < 1.5);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace ft::datasets
