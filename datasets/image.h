// A decoded image: height x width x channels uint8, row-major HWC.
#pragma once
#include <cstdint>
#include <vector>

namespace ft::datasets {

struct Image {
  int64_t height = 0, width = 0, channels = 0;
  std::vector<uint8_t> pixels;
};

}  // namespace ft::datasets
