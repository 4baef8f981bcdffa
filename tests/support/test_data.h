// Where the tests find data sets that live outside the tree: from the environment,
// which CTest sets from the CMake cache (never a path written into a test).
#pragma once
#include <filesystem>

namespace ft::testing {

// $FLOWTRAIN_FASHION_MNIST: the Fashion-MNIST IDX files (CMake cache variable
// FLOWTRAIN_FASHION_MNIST, Debian's dataset-fashion-mnist by default); empty when unset.
std::filesystem::path fashion_mnist_dir();

}  // namespace ft::testing
