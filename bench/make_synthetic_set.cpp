// Writes a synthetic sharded image set of about a given size (pseudo-random RGB
// images, 256 MiB shards), for benchmarks that need large sets: bench_startup.py.
// usage: make_synthetic_set OUT_DIR GIGABYTES [SIDE=64]
#include <fmt/core.h>

#include <cstdlib>
#include <exception>
#include <string>

#include "bench/synthetic_source.h"
#include "datasets/convert.h"

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    fmt::print(stderr, "usage: make_synthetic_set OUT_DIR GIGABYTES [SIDE=64]\n");
    return 2;
  }
  try {
    double gigabytes = std::stod(argv[2]);
    int64_t side = argc == 4 ? std::stoll(argv[3]) : 64;
    auto images = int64_t(gigabytes * 1e9 / double(side * side * 3));
    ft::bench::SyntheticSource source(images, side);
    ft::datasets::ConvertOptions options;
    options.out = argv[1];
    ft::datasets::Manifest manifest = ft::datasets::convert_images(source, options);
    fmt::print("{}: {} images of {}x{}x3 in {} shards\n", argv[1], manifest.count, side, side, manifest.shards.size());
  } catch (const std::exception& e) {
    fmt::print(stderr, "make_synthetic_set: {}\n", e.what());
    return 1;
  }
  return 0;
}
