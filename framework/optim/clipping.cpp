#include "framework/optim/clipping.h"

#include <algorithm>

namespace ft::optim {

double clip_coefficient(double total_norm, double max_norm) {
  if (max_norm <= 0.0) return 1.0;
  return std::min(1.0, max_norm / (total_norm + 1e-6));
}

}  // namespace ft::optim
