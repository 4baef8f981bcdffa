// How a layer's weights start.
#pragma once

namespace ft::nn {

// uniform: PyTorch's default, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias.
// zeros: weight and bias zero (the last layer of Glow's coupling net, TARFLOW's proj_out).
enum class Init { uniform, zeros };

}  // namespace ft::nn
