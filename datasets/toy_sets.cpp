#include "datasets/toy_sets.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numbers>

#include "framework/core/check.h"
#include "framework/random/generator.h"

namespace ft::datasets {

namespace {

constexpr double kPi = std::numbers::pi;
constexpr double kMinusInfinity = -std::numeric_limits<double>::infinity();

struct ToySetInfo {
  ToySet set;
  const char* name;
  int32_t components;
};
constexpr std::array<ToySetInfo, 5> kToySets{{{ToySet::two_moons, "two-moons", 2},
                                              {ToySet::circles, "circles", 2},
                                              {ToySet::checkerboard, "checkerboard", 8},
                                              {ToySet::eight_gaussians, "eight-gaussians", 8},
                                              {ToySet::pinwheel, "pinwheel", 5}}};

const ToySetInfo& info(ToySet set) { return kToySets[size_t(set)]; }

// The generators' constants (see toy_sets.h).
constexpr double kMoonNoise = 0.2;
constexpr double kCircleNoise = 0.24;
constexpr std::array<double, 2> kCircleRadii{3.0, 1.5};
const double kGaussianRadius = 2.0 * std::sqrt(2.0);
const double kGaussianStd = 0.5 / std::sqrt(2.0);
constexpr int kPinwheelArms = 5;
constexpr double kPinwheelRadialMean = 1.0, kPinwheelRadialStd = 0.3, kPinwheelTangentialStd = 0.1;
constexpr double kPinwheelRate = 0.25;

// Every point uses at most this many 32-bit values of its stream, from index * 8 on.
constexpr uint64_t kValuesPerPoint = 8;

class PointDraws {
 public:
  PointDraws(ToySet set, uint64_t seed, int64_t index)
      : generator_(seed, 0x70A0 + uint64_t(set), uint64_t(index) * kValuesPerPoint) {}
  double unit() { return generator_.next_unit(); }  // in (0, 1)
  int32_t below(int32_t n) { return std::min(int32_t(unit() * n), n - 1); }
  // Two independent standard normals (Box-Muller).
  std::array<double, 2> normals() {
    double radius = std::sqrt(-2.0 * std::log(unit())), angle = 2.0 * kPi * unit();
    return {radius * std::cos(angle), radius * std::sin(angle)};
  }

 private:
  Generator generator_;
};

std::array<double, 2> moon_center(int32_t moon, double t) {
  if (moon == 0) return {2.0 * std::cos(t) - 1.0, 2.0 * std::sin(t) - 0.2};
  return {1.0 - 2.0 * std::cos(t), 0.8 - 2.0 * std::sin(t)};
}

std::array<double, 2> circle_center(int32_t circle, double angle) {
  return {kCircleRadii[size_t(circle)] * std::cos(angle), kCircleRadii[size_t(circle)] * std::sin(angle)};
}

std::array<double, 2> gaussian_center(int32_t k) {
  double angle = k * kPi / 4.0;
  return {kGaussianRadius * std::cos(angle), kGaussianRadius * std::sin(angle)};
}

double pinwheel_angle(int32_t arm, double r) { return 2.0 * kPi * arm / kPinwheelArms + kPinwheelRate * std::exp(r); }

ToyPoint draw_point(ToySet set, PointDraws& draws) {
  switch (set) {
    case ToySet::two_moons: {
      int32_t moon = draws.below(2);
      auto center = moon_center(moon, kPi * draws.unit());
      auto noise = draws.normals();
      return {center[0] + kMoonNoise * noise[0], center[1] + kMoonNoise * noise[1], moon};
    }
    case ToySet::circles: {
      int32_t circle = draws.below(2);
      auto center = circle_center(circle, 2.0 * kPi * draws.unit());
      auto noise = draws.normals();
      return {center[0] + kCircleNoise * noise[0], center[1] + kCircleNoise * noise[1], circle};
    }
    case ToySet::checkerboard: {
      // FFJORD's: x1 ~ U(-2, 2), x2 in [0, 1) or [-2, -1), raised by 1 in odd columns; both doubled.
      double x1 = 4.0 * draws.unit() - 2.0;
      int32_t lower = draws.below(2);
      double column = std::floor(x1);
      double x2 = draws.unit() - 2.0 * lower + (column - 2.0 * std::floor(column / 2.0));
      return {2.0 * x1, 2.0 * x2, int32_t(column + 2.0) * 2 + lower};
    }
    case ToySet::eight_gaussians: {
      int32_t k = draws.below(8);
      auto center = gaussian_center(k);
      auto noise = draws.normals();
      return {center[0] + kGaussianStd * noise[0], center[1] + kGaussianStd * noise[1], k};
    }
    case ToySet::pinwheel: {
      int32_t arm = draws.below(kPinwheelArms);
      auto noise = draws.normals();
      double r = kPinwheelRadialMean + kPinwheelRadialStd * noise[0], s = kPinwheelTangentialStd * noise[1];
      double a = pinwheel_angle(arm, r);
      return {2.0 * (r * std::cos(a) + s * std::sin(a)), 2.0 * (-r * std::sin(a) + s * std::cos(a)), arm};
    }
  }
  FT_FAIL("unknown toy set {}", int(set));
}

// log(exp(a) + exp(b)) without overflow; -inf terms drop out.
double log_add(double a, double b) {
  if (a == kMinusInfinity) return b;
  if (b == kMinusInfinity) return a;
  double high = std::max(a, b);
  return high + std::log1p(std::exp(std::min(a, b) - high));
}

double log_normal(double value, double mean, double std) {
  double z = (value - mean) / std;
  return -0.5 * z * z - std::log(std * std::sqrt(2.0 * kPi));
}

// log of (1 / (t1 - t0)) * integral over [t0, t1] of N(point; center(t), sigma^2 I) dt:
// the density of a point on the curve at a uniform t plus isotropic noise. Composite
// 8-point Gauss-Legendre on 64 panels (each under 1.3 noise deviations of arc);
// panels that cannot come within e^-40 of the
// nearest one are skipped. `speed` bounds |center'(t)|.
template <class Center>
double log_noisy_curve(double x, double y, Center center, double t0, double t1, double speed, double sigma) {
  constexpr int kPanels = 64;
  constexpr std::array<double, 4> kNodes{0.1834346424956498, 0.5255324099163290, 0.7966664774136267,
                                         0.9602898564975363};
  constexpr std::array<double, 4> kWeights{0.3626837833783620, 0.3137066458778873, 0.2223810344533745,
                                           0.1012285362903763};
  const double width = (t1 - t0) / kPanels, two_var = 2.0 * sigma * sigma;
  std::array<double, kPanels> midpoint_distance{};
  double nearest = std::numeric_limits<double>::infinity();
  for (int p = 0; p < kPanels; ++p) {
    auto c = center(t0 + (p + 0.5) * width);
    midpoint_distance[size_t(p)] = std::hypot(x - c[0], y - c[1]);
    nearest = std::min(nearest, midpoint_distance[size_t(p)]);
  }
  // Terms are summed relative to the largest any node can have, so none overflows
  // and the far ones underflow to zero harmlessly.
  const double half_arc = 0.5 * width * speed, reach = std::max(0.0, nearest - half_arc);
  const double top = reach * reach / two_var, cutoff = nearest * nearest / two_var + 40.0;
  double sum = 0.0;
  for (int p = 0; p < kPanels; ++p) {
    double closest = std::max(0.0, midpoint_distance[size_t(p)] - half_arc);
    if (closest * closest / two_var > cutoff) continue;
    double mid = t0 + (p + 0.5) * width;
    for (size_t i = 0; i < 8; ++i) {
      double node = (i < 4 ? -1.0 : 1.0) * kNodes[i % 4];
      auto c = center(mid + 0.5 * width * node);
      double d2 = (x - c[0]) * (x - c[0]) + (y - c[1]) * (y - c[1]);
      sum += kWeights[i % 4] * std::exp(top - d2 / two_var);
    }
  }
  return std::log(sum * 0.5 / kPanels) - top - std::log(kPi * two_var);
}

double two_moons_log_density(double x, double y) {
  double log_p = kMinusInfinity;
  for (int32_t moon = 0; moon < 2; ++moon)
    log_p = log_add(log_p, std::log(0.5) + log_noisy_curve(
                                               x, y, [moon](double t) { return moon_center(moon, t); }, 0.0, kPi,
                                               2.0, kMoonNoise));
  return log_p;
}

double circles_log_density(double x, double y) {
  double log_p = kMinusInfinity;
  for (int32_t circle = 0; circle < 2; ++circle)
    log_p = log_add(log_p, std::log(0.5) + log_noisy_curve(
                                               x, y, [circle](double a) { return circle_center(circle, a); }, 0.0,
                                               2.0 * kPi, kCircleRadii[size_t(circle)], kCircleNoise));
  return log_p;
}

double checkerboard_log_density(double x, double y) {
  if (x < -4.0 || x >= 4.0 || y < -4.0 || y >= 4.0) return kMinusInfinity;
  auto cells = int64_t(std::floor(x / 2.0) + std::floor(y / 2.0));
  return cells % 2 == 0 ? -std::log(32.0) : kMinusInfinity;
}

double eight_gaussians_log_density(double x, double y) {
  double log_p = kMinusInfinity;
  for (int32_t k = 0; k < 8; ++k) {
    auto c = gaussian_center(k);
    log_p = log_add(log_p, std::log(1.0 / 8.0) + log_normal(x, c[0], kGaussianStd) + log_normal(y, c[1], kGaussianStd));
  }
  return log_p;
}

// The root of f in [a, b] where f(a) and f(b) differ in sign: Newton's steps, with
// bisection whenever a step would leave the shrinking bracket.
template <class F, class Slope>
double root_in_bracket(F f, Slope slope, double a, double b, double fa) {
  double r = 0.5 * (a + b);
  for (int i = 0; i < 60; ++i) {
    double fr = f(r);
    if (fr == 0.0) return r;
    if ((fr < 0.0) == (fa < 0.0)) a = r, fa = fr; else b = r;
    double next = r - fr / slope(r);
    if (!(next > a && next < b)) next = 0.5 * (a + b);
    if (std::abs(next - r) < 1e-14 || b - a < 1e-14) return next;
    r = next;
  }
  return r;
}

// The pinwheel by change of variables (see toy_sets.h): for each arm, the roots r of
// f(r) = r - rho cos(angle(r) + phi), bracketed on a grid that advances the angle by
// at most 0.4 rad a step, then refined. A preimage (r, s) lies on the circle of
// radius rho, so |s| <= 10 deviations confines r to rho >= |r| >= sqrt(rho^2 - 1).
double pinwheel_log_density(double x, double y) {
  const double rho = 0.5 * std::hypot(x, y), phi = std::atan2(0.5 * y, 0.5 * x);
  const double inner = std::sqrt(std::max(0.0, rho * rho - std::pow(10.0 * kPinwheelTangentialStd, 2)));
  const double lowest = kPinwheelRadialMean - 9.0 * kPinwheelRadialStd;
  const double highest = kPinwheelRadialMean + 9.0 * kPinwheelRadialStd;
  const std::array<std::array<double, 2>, 2> windows{{{std::max(-rho, lowest), std::min(-inner, highest)},
                                                      {std::max(inner, lowest), std::min(rho, highest)}}};
  double log_p = kMinusInfinity;
  for (int32_t arm = 0; arm < kPinwheelArms; ++arm) {
    auto f = [&](double r) { return r - rho * std::cos(pinwheel_angle(arm, r) + phi); };
    auto slope = [&](double r) { return 1.0 + kPinwheelRate * std::exp(r) * rho * std::sin(pinwheel_angle(arm, r) + phi); };
    auto add_preimage = [&](double r) {
      double s = rho * std::sin(pinwheel_angle(arm, r) + phi);
      double jacobian = 4.0 * std::abs(1.0 + kPinwheelRate * std::exp(r) * s);
      log_p = log_add(log_p, log_normal(r, kPinwheelRadialMean, kPinwheelRadialStd) +
                                 log_normal(s, 0.0, kPinwheelTangentialStd) - std::log(kPinwheelArms * jacobian));
    };
    for (size_t w = 0; w < windows.size(); ++w) {
      const double low = windows[w][0], high = windows[w][1];
      if (low > high || (w == 0 && inner == 0.0)) continue;  // empty, or one window [-rho, rho]
      double r0 = w == 1 && inner == 0.0 ? std::max(-rho, lowest) : low, f0 = f(r0);
      while (r0 < high) {
        double r1 = std::min(high, r0 + std::min(0.05, 0.4 / (kPinwheelRate * std::exp(r0) * std::max(rho, 1.0))));
        double f1 = f(r1);
        if (f0 == 0.0) add_preimage(r0);
        if ((f0 < 0.0 && f1 > 0.0) || (f0 > 0.0 && f1 < 0.0)) add_preimage(root_in_bracket(f, slope, r0, r1, f0));
        r0 = r1;
        f0 = f1;
      }
      if (f0 == 0.0) add_preimage(r0);
    }
  }
  return log_p;
}

}  // namespace

ToySet toy_set_from_name(const std::string& name) {
  for (const ToySetInfo& set : kToySets)
    if (name == set.name) return set.set;
  FT_FAIL("toy set '{}' is not two-moons, circles, checkerboard, eight-gaussians or pinwheel", name);
}

const char* toy_set_name(ToySet set) { return info(set).name; }
int32_t toy_set_components(ToySet set) { return info(set).components; }

ToyPoint toy_point(ToySet set, uint64_t seed, int64_t index) {
  PointDraws draws(set, seed, index);
  return draw_point(set, draws);
}

double toy_log_density(ToySet set, double x, double y) {
  switch (set) {
    case ToySet::two_moons: return two_moons_log_density(x, y);
    case ToySet::circles: return circles_log_density(x, y);
    case ToySet::checkerboard: return checkerboard_log_density(x, y);
    case ToySet::eight_gaussians: return eight_gaussians_log_density(x, y);
    case ToySet::pinwheel: return pinwheel_log_density(x, y);
  }
  FT_FAIL("unknown toy set {}", int(set));
}

ToySource::ToySource(ToySet set, int64_t count, uint64_t seed) : set_(set), count_(count), seed_(seed) {
  if (count <= 0) FT_FAIL("--n {} is not positive", count);
}

std::vector<std::string> ToySource::class_names() const {
  std::vector<std::string> names;
  for (int32_t k = 0; k < toy_set_components(set_); ++k) names.push_back(fmt::format("component {}", k));
  return names;
}

nlohmann::json ToySource::description() const {
  return {{"kind", "toy"}, {"set", toy_set_name(set_)}, {"n", count_}, {"seed", seed_}};
}

void ToySource::read(int64_t count, VectorBlock& block) {
  FT_CHECK(next_ + count <= count_, "toy set read past its {} points", count_);
  prepare_vector_block(block, count, 2);
  for (int64_t i = 0; i < count; ++i) {
    ToyPoint point = toy_point(set_, seed_, next_ + i);
    block.features[size_t(2 * i)] = float(point.x);
    block.features[size_t(2 * i + 1)] = float(point.y);
    block.labels[size_t(i)] = point.component;
  }
  next_ += count;
}

}  // namespace ft::datasets
