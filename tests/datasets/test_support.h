// Helpers for the datasets tests: small generated images and
// source files, reading a whole dataset back, running the flowtrain binary.
#pragma once
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "datasets/image.h"
#include "datasets/manifest.h"
#include "framework/core/check.h"
#include "tests/support/scratch_dir.h"

namespace ft::datasets::testing {

using ft::testing::ScratchDir;  // tests/support/scratch_dir.h

// Deterministic pseudo-random pixels (distinct per seed).
Image make_image(int64_t height, int64_t width, int64_t channels, uint32_t seed);
// A smooth image (gradients): JPEG keeps it within a few levels.
Image make_smooth_image(int64_t height, int64_t width, uint32_t seed);
void write_png(const std::filesystem::path& path, const Image& image);
// channels 1, 3, or 4 meaning CMYK stored the Adobe way (inverted).
void write_jpeg(const std::filesystem::path& path, const Image& image, int quality);

struct Contents {
  Manifest manifest;
  std::vector<uint8_t> pixels;  // all images in dataset order, NHWC
  std::vector<int64_t> labels;
};
// Reads a dataset back in stored order through the Reader (uint8 output).
Contents read_back(const std::filesystem::path& dir);

// Runs `FLOWTRAIN_BINARY args`, returns the exit code and stdout+stderr.
int run_flowtrain(const std::string& args, std::string& output);
// Runs a command line; returns its exit code.
int run_shell(const std::string& command);
std::string source_dir();

// Runs fn and checks it throws ft::Error whose message contains every fragment.
template <class Fn>
void expect_error(Fn fn, const std::vector<std::string>& fragments) {
  try {
    fn();
  } catch (const ft::Error& error) {
    std::string message = error.what();
    for (const std::string& fragment : fragments) {
      BOOST_TEST_INFO("message: " << message);
      BOOST_TEST(message.find(fragment) != std::string::npos);
    }
    return;
  }
  BOOST_ERROR("no error was thrown");
}

}  // namespace ft::datasets::testing
