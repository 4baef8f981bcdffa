// Glow hyperparameters (Kingma & Dhariwal 2018; openai/glow semantics).
#pragma once
#include <cstdint>
#include <string>

namespace ft::layers {

enum class Coupling { affine, additive };
enum class Permutation { lu, plain };  // invertible 1x1 convolution: LU-parametrised or full W

struct GlowConfig {
  int64_t channels = 3;
  int64_t image_size = 32;
  int64_t levels = 3;  // L
  int64_t depth = 32;  // K steps per level
  int64_t width = 512;  // hidden channels of the coupling network
  Coupling coupling = Coupling::affine;
  Permutation permutation = Permutation::lu;
  int n_bits = 8;
  bool learn_top = true;
  int64_t num_classes = 0;  // > 0: class-conditional top prior

  // Throws ft::Error naming the offending key (model.<key>).
  void validate() const;
};

Coupling coupling_from_name(const std::string& name);
Permutation permutation_from_name(const std::string& name);
const char* coupling_name(Coupling c);
const char* permutation_name(Permutation p);

}  // namespace ft::layers
