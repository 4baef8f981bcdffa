#include "tests/support/test_data.h"

#include <cstdlib>

namespace ft::testing {

std::filesystem::path fashion_mnist_dir() {
  const char* dir = std::getenv("FLOWTRAIN_FASHION_MNIST");
  return dir && *dir ? std::filesystem::path(dir) : std::filesystem::path();
}

}  // namespace ft::testing
