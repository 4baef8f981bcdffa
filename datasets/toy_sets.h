// The 2-D toy sets of the normalizing-flow literature (FFJORD's lib/toy_data.py,
// nflows), each a generator and its exact target density, for training and for
// measuring KL(p || q) ~ mean over target samples of log p - log q_model.
//
// The generators draw each point from its own Philox counter, keyed by (set, seed,
// index): the points depend on the seed alone, never on how they are split into
// blocks or shards. Each point carries its mixture component as its label.
//
//   two-moons        sklearn's make_moons(noise=0.1) scaled by 2 and shifted by
//                    (-1, -0.2), as FFJORD: moon k (k = 0 outer, 1 inner), t ~ U(0, pi),
//                    outer (2 cos t - 1, 2 sin t - 0.2), inner (1 - 2 cos t, 0.8 - 2 sin t),
//                    plus N(0, 0.2^2 I). (sklearn spaces t evenly; this is its limit.)
//   circles          make_circles(factor=0.5, noise=0.08) scaled by 3: radius 3 or 1.5
//                    with equal odds, angle ~ U(0, 2 pi), plus N(0, 0.24^2 I).
//   checkerboard     uniform on the 8 squares of side 2 in [-4, 4)^2 whose cell indices
//                    floor(x/2) + floor(y/2) are even; density 1/32 there.
//   eight-gaussians  an equal mixture of N(c_k, (0.5/sqrt 2)^2 I), c_k the 8 points at
//                    angles k pi/4 on the circle of radius 2 sqrt 2 (FFJORD's 4/1.414).
//   pinwheel         5 arms: r ~ N(1, 0.3^2), s ~ N(0, 0.1^2), arm k uniform,
//                    a = 2 pi k/5 + 0.25 e^r, x = 2 (r cos a + s sin a, -r sin a + s cos a).
//
// toy_log_density is the natural log of the density the generator samples from:
// in closed form for eight-gaussians and checkerboard (-inf off the squares);
// two-moons and circles convolve the noise with the curve by composite Gauss-
// Legendre quadrature over the latent t (relative error far below 1e-9); pinwheel
// by change of variables: for each arm, the preimages r of a point solve
// r = rho cos(2 pi k/5 + 0.25 e^r + phi) (rho, phi the polar coordinates of x/2),
// found by bracketing and Newton's method for r within 9 standard deviations of 1
// and s within 10 of 0, and p = sum N(r) N(s) / (5 * 4 |1 + 0.25 e^r s|). The map
// folds where 1 + 0.25 e^r s = 0, beyond 5 standard deviations in r; there the
// density is exact up to the bracketing step. A point with no preimage in those
// windows (density below e^-40 of the peak) gets -inf.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "datasets/vector_source.h"

namespace ft::datasets {

enum class ToySet { two_moons, circles, checkerboard, eight_gaussians, pinwheel };

// Names as on the command line: two-moons, circles, checkerboard, eight-gaussians, pinwheel.
ToySet toy_set_from_name(const std::string& name);
const char* toy_set_name(ToySet set);
// The mixture components (the labels): 2, 2, 8, 8, 5.
int32_t toy_set_components(ToySet set);

struct ToyPoint {
  double x = 0, y = 0;
  int32_t component = 0;
};
// Point `index` of the set drawn with `seed`.
ToyPoint toy_point(ToySet set, uint64_t seed, int64_t index);

// The natural log of the set's density at (x, y); see above.
double toy_log_density(ToySet set, double x, double y);

// `count` points of a toy set as a vector source (D = 2, float32), for
// `flowtrain data make-toy`.
class ToySource : public VectorSource {
 public:
  ToySource(ToySet set, int64_t count, uint64_t seed);
  int64_t size() const override { return count_; }
  int64_t features() const override { return 2; }
  std::vector<std::string> class_names() const override;
  nlohmann::json description() const override;
  void read(int64_t count, VectorBlock& block) override;
  void skip(int64_t count) override { next_ += count; }

 private:
  ToySet set_;
  int64_t count_;
  uint64_t seed_;
  int64_t next_ = 0;
};

}  // namespace ft::datasets
