// How an autoregressive flow's inverse solves for its tokens: one at a time, or
// in windows by Jacobi fixed-point iteration (apple/ml-tarflow issue 10). Each
// iteration recomputes a window's shifts and scales in one pass from the previous
// iterate; windows go in order (Gauss-Seidel across windows). A window of B tokens
// is exact after B iterations (its token j after j), so it never takes more.
#pragma once
#include <cstdint>

namespace ft::layers {

// What an inverse did, summed over the blocks it ran.
struct InversionStats {
  int64_t windows = 0;     // groups of tokens solved together
  int64_t iterations = 0;  // transformer passes (a guided pass and its unconditional twin count once)
};

struct AutoregressiveInversion {
  // Tokens per window: 1 is the sequential inverse, one pass per token; 0 (or more
  // than a block has) solves each block as one window.
  int64_t jacobi_block = 1;
  // A window stops once no token moved by more than this (max abs, model space).
  double tolerance = 0.0;
  // Iterations allowed per window; 0: the window's size (exact). Stopping at the cap
  // above the tolerance is an error naming the tokens and the residual.
  int64_t max_iterations = 0;
  InversionStats* stats = nullptr;  // incremented when set
};

}  // namespace ft::layers
