#include "datasets/image_codec.h"

#include <jpeglib.h>
#include <png.h>

#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <fstream>
#include <iterator>

#include "framework/core/check.h"

namespace ft::datasets {

namespace {

std::vector<uint8_t> read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) FT_FAIL("{}: cannot open", path.string());
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Image decode_png(const std::vector<uint8_t>& bytes, const std::filesystem::path& path) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, bytes.data(), bytes.size()))
    FT_FAIL("{}: PNG does not decode: {}", path.string(), image.message);
  bool color = image.format & PNG_FORMAT_FLAG_COLOR, alpha = image.format & PNG_FORMAT_FLAG_ALPHA;
  // 8-bit sRGB formats: no premultiplication, so alpha can be dropped later as is.
  image.format = color ? (alpha ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB) : (alpha ? PNG_FORMAT_GA : PNG_FORMAT_GRAY);
  Image out{image.height, image.width, int64_t(PNG_IMAGE_PIXEL_CHANNELS(image.format)), {}};
  out.pixels.resize(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, out.pixels.data(), 0, nullptr)) {
    std::string message = image.message;
    png_image_free(&image);
    FT_FAIL("{}: PNG does not decode: {}", path.string(), message);
  }
  return out;
}

struct JpegErrorTrap {
  jpeg_error_mgr manager;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool warned;
};

void jpeg_fatal(j_common_ptr info) {
  auto* trap = reinterpret_cast<JpegErrorTrap*>(info->err);
  info->err->format_message(info, trap->message);
  std::longjmp(trap->jump, 1);
}

void jpeg_emit(j_common_ptr info, int level) {
  if (level >= 0) return;  // trace messages
  auto* trap = reinterpret_cast<JpegErrorTrap*>(info->err);
  if (!trap->warned) info->err->format_message(info, trap->message);
  trap->warned = true;
}

struct JpegHeader {
  int64_t height, width, channels;
  bool cmyk, adobe_inverted;
};

// Only plain C objects live in this frame, so longjmp out of libjpeg is well defined.
// `pixels` is owned by the caller and sized by `allocate` once the header is read.
bool run_jpeg_decoder(const uint8_t* data, size_t size, JpegHeader* header, std::vector<uint8_t>* pixels,
                      JpegErrorTrap* trap) {
  jpeg_decompress_struct info;
  info.err = jpeg_std_error(&trap->manager);
  trap->manager.error_exit = jpeg_fatal;
  trap->manager.emit_message = jpeg_emit;
  trap->warned = false;
  if (setjmp(trap->jump)) {
    jpeg_destroy_decompress(&info);
    return false;
  }
  jpeg_create_decompress(&info);
  jpeg_mem_src(&info, data, static_cast<unsigned long>(size));
  jpeg_read_header(&info, TRUE);
  header->cmyk = info.jpeg_color_space == JCS_CMYK || info.jpeg_color_space == JCS_YCCK;
  header->adobe_inverted = info.saw_Adobe_marker;
  info.out_color_space = header->cmyk ? JCS_CMYK : (info.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB);
  jpeg_start_decompress(&info);
  header->height = info.output_height;
  header->width = info.output_width;
  header->channels = info.output_components;
  pixels->resize(size_t(header->height * header->width * header->channels));
  size_t stride = size_t(header->width * header->channels);
  while (info.output_scanline < info.output_height) {
    JSAMPROW row = pixels->data() + size_t(info.output_scanline) * stride;
    jpeg_read_scanlines(&info, &row, 1);
  }
  jpeg_finish_decompress(&info);
  jpeg_destroy_decompress(&info);
  return !trap->warned;
}

// Adobe writes CMYK inverted (0 = full ink); others store ink amounts.
Image cmyk_to_rgb(const std::vector<uint8_t>& cmyk, const JpegHeader& header) {
  Image out{header.height, header.width, 3, std::vector<uint8_t>(size_t(header.height * header.width * 3))};
  for (size_t i = 0; i < size_t(header.height * header.width); ++i) {
    int k = header.adobe_inverted ? cmyk[4 * i + 3] : 255 - cmyk[4 * i + 3];
    for (size_t c = 0; c < 3; ++c) {
      int ink = header.adobe_inverted ? cmyk[4 * i + c] : 255 - cmyk[4 * i + c];
      out.pixels[3 * i + c] = uint8_t((ink * k + 127) / 255);
    }
  }
  return out;
}

Image decode_jpeg(const std::vector<uint8_t>& bytes, const std::filesystem::path& path) {
  JpegHeader header{};
  std::vector<uint8_t> pixels;
  JpegErrorTrap trap{};
  if (!run_jpeg_decoder(bytes.data(), bytes.size(), &header, &pixels, &trap))
    FT_FAIL("{}: JPEG does not decode: {}", path.string(), trap.message);
  if (header.cmyk) return cmyk_to_rgb(pixels, header);
  return Image{header.height, header.width, header.channels, std::move(pixels)};
}

}  // namespace

bool has_image_extension(const std::filesystem::path& path) {
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(), [](unsigned char c) { return std::tolower(c); });
  return extension == ".png" || extension == ".jpg" || extension == ".jpeg";
}

Image decode_image_file(const std::filesystem::path& path) {
  std::vector<uint8_t> bytes = read_bytes(path);
  // By content, not by extension: ImageNet has PNGs and CMYK JPEGs named .JPEG.
  if (bytes.size() >= 8 && png_sig_cmp(bytes.data(), 0, 8) == 0) return decode_png(bytes, path);
  if (bytes.size() >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF) return decode_jpeg(bytes, path);
  FT_FAIL("{}: neither PNG nor JPEG ({} bytes)", path.string(), bytes.size());
}

}  // namespace ft::datasets
