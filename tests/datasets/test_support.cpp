#include "tests/datasets/test_support.h"

#include <jpeglib.h>
#include <png.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "datasets/reader.h"

namespace ft::datasets::testing {

Image make_image(int64_t height, int64_t width, int64_t channels, uint32_t seed) {
  Image image{height, width, channels, std::vector<uint8_t>(size_t(height * width * channels))};
  uint32_t state = seed * 2654435761u + 12345u;
  for (uint8_t& value : image.pixels) {
    state = state * 1664525u + 1013904223u;
    value = uint8_t(state >> 24);
  }
  return image;
}

Image make_smooth_image(int64_t height, int64_t width, uint32_t seed) {
  Image image{height, width, 3, std::vector<uint8_t>(size_t(height * width * 3))};
  for (int64_t y = 0; y < height; ++y)
    for (int64_t x = 0; x < width; ++x)
      for (int64_t c = 0; c < 3; ++c)
        image.pixels[size_t((y * width + x) * 3 + c)] =
            uint8_t(40 + (seed * 17 + uint32_t(c) * 50 + uint32_t(x * 3 + y * 2)) % 170);
  return image;
}

void write_png(const std::filesystem::path& path, const Image& image) {
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  png.width = uint32_t(image.width);
  png.height = uint32_t(image.height);
  png.format = image.channels == 1 ? PNG_FORMAT_GRAY
               : image.channels == 2 ? PNG_FORMAT_GA
               : image.channels == 3 ? PNG_FORMAT_RGB
                                     : PNG_FORMAT_RGBA;
  if (!png_image_write_to_file(&png, path.c_str(), 0, image.pixels.data(), 0, nullptr))
    throw std::runtime_error("cannot write " + path.string() + ": " + png.message);
}

void write_jpeg(const std::filesystem::path& path, const Image& image, int quality) {
  FILE* file = std::fopen(path.c_str(), "wb");
  if (!file) throw std::runtime_error("cannot create " + path.string());
  jpeg_compress_struct info;
  jpeg_error_mgr errors;
  info.err = jpeg_std_error(&errors);
  jpeg_create_compress(&info);
  jpeg_stdio_dest(&info, file);
  info.image_width = JDIMENSION(image.width);
  info.image_height = JDIMENSION(image.height);
  info.input_components = int(image.channels);
  info.in_color_space = image.channels == 1 ? JCS_GRAYSCALE : image.channels == 3 ? JCS_RGB : JCS_CMYK;
  jpeg_set_defaults(&info);
  jpeg_set_quality(&info, quality, TRUE);
  for (int i = 0; i < info.num_components; ++i) info.comp_info[i].h_samp_factor = info.comp_info[i].v_samp_factor = 1;
  jpeg_start_compress(&info, TRUE);
  while (info.next_scanline < info.image_height) {
    auto* row = const_cast<JSAMPLE*>(image.pixels.data() + size_t(info.next_scanline) * size_t(image.width * image.channels));
    jpeg_write_scanlines(&info, &row, 1);
  }
  jpeg_finish_compress(&info);
  jpeg_destroy_compress(&info);
  std::fclose(file);
}

Contents read_back(const std::filesystem::path& dir) {
  ReaderOptions options;
  options.dir = dir;
  options.shuffle = false;
  options.drop_last = false;
  options.output = ReaderOutput::uint8_nhwc;
  options.threads = 1;
  Contents contents;
  {
    Manifest manifest = read_manifest(dir);
    options.global_batch = manifest.count;
  }
  Reader reader(options);
  contents.manifest = reader.manifest();
  Batch batch = reader.next();
  contents.pixels = batch.images.to_vector<uint8_t>();
  contents.labels = batch.labels.to_vector<int64_t>();
  return contents;
}

int run_shell(const std::string& command) {
  int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int run_flowtrain(const std::string& args, std::string& output) {
  const char* binary = std::getenv("FLOWTRAIN_BINARY");
  if (!binary) throw std::runtime_error("FLOWTRAIN_BINARY is not set (run through ctest)");
  std::string command = std::string(binary) + " " + args + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run " + command);
  output.clear();
  std::array<char, 4096> buffer;
  size_t got = 0;
  while ((got = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) output.append(buffer.data(), got);
  int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string source_dir() {
  const char* dir = std::getenv("FLOWTRAIN_SOURCE_DIR");
  return dir ? dir : ".";
}

}  // namespace ft::datasets::testing
