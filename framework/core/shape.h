// Shapes and strides (in elements) and the arithmetic views and broadcasting need.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ft {

using Shape = std::vector<int64_t>;
using Strides = std::vector<int64_t>;

int64_t numel_of(const Shape& shape);
Strides contiguous_strides(const Shape& shape);
std::string shape_str(const Shape& shape);
// Normalises a possibly negative dimension index against ndim; throws when out of range.
int normalize_dim(int64_t dim, size_t ndim);
// The broadcast of two shapes (numpy rules); throws naming both shapes when incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b);

}  // namespace ft
