// Hyperparameters of a TARFLOW model (Zhai et al. 2024, apple/ml-tarflow): images
// are cut into P x P patches (tokens), and `blocks` autoregressive affine flows,
// each a causal transformer, map the token sequence to a standard normal.
#pragma once
#include <cstdint>
#include <string>

namespace ft::layers {

struct TarflowConfig {
  int64_t channels = 3;
  int64_t image_size = 32;  // square images: H = W = image_size
  int64_t patch_size = 4;
  int64_t width = 256;        // transformer channels ("channels" in ml-tarflow)
  int64_t blocks = 4;         // flow blocks ("num_blocks")
  int64_t layers_per_block = 4;
  int64_t head_dim = 64;
  int64_t num_classes = 0;    // 0: unconditional
  double noise_std = 0.05;    // Gaussian dequantization sigma; 0 with uniform dequantization
  std::string dequantization = "gaussian";  // "gaussian" | "uniform"
  double label_dropout = 0.1;  // probability a training label is replaced by "no label"

  int64_t tokens() const { return (image_size / patch_size) * (image_size / patch_size); }
  int64_t token_dim() const { return channels * patch_size * patch_size; }
  // Throws ft::Error naming the first field that is out of range.
  void validate() const;
};

}  // namespace ft::layers
