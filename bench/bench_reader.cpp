// Reader throughput (images/s) at 32x32 and 64x64 with 1 and 2 threads, next to
// an h5py loop reading the same shards (bench/h5py_reader_peer.py), and image
// folder conversion throughput. Measured, never asserted.
// usage: bench_reader [WORK_DIR]   (default: a folder under /tmp, removed after)
#include <fmt/core.h>
#include <jpeglib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "datasets/convert.h"
#include "datasets/reader.h"
#include "bench/synthetic_source.h"

namespace {

using namespace ft::datasets;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double reader_images_per_second(const std::filesystem::path& dir, int threads, int64_t batch) {
  ReaderOptions options;
  options.dir = dir;
  options.global_batch = batch;
  options.threads = threads;
  options.flip = true;
  options.verify_checksums = false;
  Reader reader(options);
  reader.next();  // warm: threads started, shards opened
  auto start = Clock::now();
  int64_t images = 0;
  for (int64_t i = 1; i < reader.batches_per_epoch(); ++i) images += reader.next().images.size(0);
  return double(images) / seconds_since(start);
}

double h5py_images_per_second(const std::filesystem::path& dir, int64_t batch) {
  std::string script = (std::filesystem::path(__FILE__).parent_path() / "h5py_reader_peer.py").string();
  // 40 batches: enough for a steady rate.
  std::string command = fmt::format("OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 {} {} {} 40", script, dir.string(), batch);
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  char line[512] = {};
  if (!pipe || !std::fgets(line, sizeof line, pipe.get())) return 0.0;
  std::string text = line;
  return std::stod(text.substr(text.find("\"images_per_s\": ") + 16));
}

void write_jpeg(const std::filesystem::path& path, int width, int height, uint32_t seed) {
  std::vector<uint8_t> pixels(size_t(width * height * 3));
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = uint8_t((i * 7 + seed * 13 + (i / size_t(width * 3)) * 5) % 256);
  FILE* file = std::fopen(path.c_str(), "wb");
  jpeg_compress_struct info;
  jpeg_error_mgr errors;
  info.err = jpeg_std_error(&errors);
  jpeg_create_compress(&info);
  jpeg_stdio_dest(&info, file);
  info.image_width = JDIMENSION(width);
  info.image_height = JDIMENSION(height);
  info.input_components = 3;
  info.in_color_space = JCS_RGB;
  jpeg_set_defaults(&info);
  jpeg_set_quality(&info, 90, TRUE);
  jpeg_start_compress(&info, TRUE);
  while (info.next_scanline < info.image_height) {
    JSAMPROW row = pixels.data() + size_t(info.next_scanline) * size_t(width * 3);
    jpeg_write_scanlines(&info, &row, 1);
  }
  jpeg_finish_compress(&info);
  jpeg_destroy_compress(&info);
  std::fclose(file);
}

void bench_conversion(const std::filesystem::path& work) {
  // ImageNet-like: 500x375 JPEGs, 10 classes, to 64x64.
  const int images = 1000;
  std::filesystem::path src = work / "folder";
  for (int i = 0; i < images; ++i) {
    std::filesystem::path dir = src / fmt::format("class{:02d}", i % 10);
    std::filesystem::create_directories(dir);
    write_jpeg(dir / fmt::format("{:05d}.jpg", i), 500, 375, uint32_t(i));
  }
  ConvertOptions options;
  options.out = work / "folder-set";
  options.resolution = 64;
  options.shards = 4;
  auto start = Clock::now();
  auto source = open_image_source("imagefolder", {src});
  Manifest manifest = convert_images(*source, options);
  double seconds = seconds_since(start);
  fmt::print("convert imagefolder 500x375 JPEG -> 64x64: {} images in {:.2f} s = {:.0f} images/s\n", manifest.count,
             seconds, double(manifest.count) / seconds);
}

}  // namespace

int main(int argc, char** argv) {
  bool temporary = argc < 2;
  std::filesystem::path work = temporary ? std::filesystem::temp_directory_path() / "flowtrain-bench-reader" : argv[1];
  std::filesystem::remove_all(work);
  std::filesystem::create_directories(work);
  const int64_t batch = 256;
  for (auto [side, count] : {std::pair<int64_t, int64_t>{32, 50000}, {64, 20000}}) {
    ConvertOptions options;
    options.out = work / fmt::format("synthetic{}", side);
    options.shards = 8;
    ft::bench::SyntheticSource source(count, side);
    auto start = Clock::now();
    convert_images(source, options);
    fmt::print("{}x{}: {} images in 8 shards written in {:.2f} s\n", side, side, count, seconds_since(start));
    for (int threads : {1, 2})
      fmt::print("  flowtrain reader, {} thread{}: {:.0f} images/s (batch {}, f32 NCHW, uniform noise, flips)\n", threads,
                 threads > 1 ? "s" : "", reader_images_per_second(options.out, threads, batch), batch);
    fmt::print("  h5py loop (same shards, same work):  {:.0f} images/s\n", h5py_images_per_second(options.out, batch));
  }
  bench_conversion(work);
  if (temporary) std::filesystem::remove_all(work);
  return 0;
}
