#include "framework/io/png_writer.h"

#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>

#include "framework/core/check.h"
#include "framework/io/durable_file.h"

namespace ft::io {
namespace {

// What the libpng callbacks reach through their user pointers. libpng is C: a C++
// exception must not unwind through it, so errors longjmp back to encode_rows and
// leave their message here.
struct PngContext {
  std::vector<uint8_t>* out = nullptr;
  char message[256] = {};
};

[[noreturn]] void on_error(png_structp png, png_const_charp message) {
  auto* ctx = static_cast<PngContext*>(png_get_error_ptr(png));
  std::snprintf(ctx->message, sizeof ctx->message, "%s", message);
  png_longjmp(png, 1);
}

// Write-side warnings (e.g. about unused ancillary chunks) do not affect the image.
void on_warning(png_structp, png_const_charp) {}

void on_write(png_structp png, png_bytep data, size_t size) {
  auto* ctx = static_cast<PngContext*>(png_get_io_ptr(png));
  bool ok = true;
  try {
    ctx->out->insert(ctx->out->end(), data, data + size);
  } catch (const std::bad_alloc&) {
    ok = false;
  }
  // Raised outside the catch block: longjmp must not leave a live exception behind.
  if (!ok) png_error(png, "out of memory while buffering the PNG");
}

void on_flush(png_structp) {}

// Only trivially destructible locals here: longjmp from on_error skips destructors.
bool encode_rows(png_structp png, png_infop info, const uint8_t* pixels, int height, int width,
                 int channels) {
  if (setjmp(png_jmpbuf(png))) return false;
  const int color = channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB;
  png_set_IHDR(png, info, png_uint_32(width), png_uint_32(height), 8, color, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  const size_t row_bytes = size_t(width) * size_t(channels);
  for (int y = 0; y < height; ++y) png_write_row(png, pixels + size_t(y) * row_bytes);
  png_write_end(png, info);
  return true;
}

// Owns libpng's write and info structs.
struct PngWriteStructs {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~PngWriteStructs() { png_destroy_write_struct(&png, info != nullptr ? &info : nullptr); }
};

}  // namespace

std::vector<uint8_t> encode_png(const uint8_t* pixels, int height, int width, int channels) {
  FT_CHECK(pixels != nullptr, "encode_png: no pixels");
  FT_CHECK(height > 0 && width > 0, "encode_png: size {}x{}", height, width);
  FT_CHECK(channels == 1 || channels == 3, "encode_png: {} channels (1 or 3)", channels);
  std::vector<uint8_t> out;
  PngContext ctx{&out, {}};
  PngWriteStructs s;
  s.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, on_error, on_warning);
  FT_CHECK(s.png != nullptr, "png_create_write_struct failed");
  s.info = png_create_info_struct(s.png);
  FT_CHECK(s.info != nullptr, "png_create_info_struct failed");
  png_set_write_fn(s.png, &ctx, on_write, on_flush);
  if (!encode_rows(s.png, s.info, pixels, height, width, channels))
    FT_FAIL("PNG encoding of a {}x{}x{} image failed: {}", height, width, channels, ctx.message);
  return out;
}

void write_png_file(const std::string& path, const uint8_t* pixels, int height, int width,
                    int channels) {
  const std::vector<uint8_t> png = encode_png(pixels, height, width, channels);
  write_file_atomically(path, std::string_view(reinterpret_cast<const char*>(png.data()), png.size()));
}

}  // namespace ft::io
