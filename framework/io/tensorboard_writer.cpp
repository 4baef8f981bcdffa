#include "framework/io/tensorboard_writer.h"

#include <unistd.h>

#include <array>
#include <bit>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "framework/core/check.h"
#include "framework/io/crc32c.h"

namespace ft::io {
namespace {

static_assert(std::endian::native == std::endian::little,
              "TFRecord and protobuf fixed-width fields are little-endian; this writer copies "
              "native integers");

// Protobuf wire types.
enum class Wire : uint32_t { varint = 0, fixed64 = 1, bytes = 2, fixed32 = 5 };

// Appends protobuf fields to a byte string. Only what Event needs.
class Proto {
 public:
  Proto& varint(uint32_t field, uint64_t value) {
    key(field, Wire::varint);
    raw_varint(value);
    return *this;
  }
  Proto& fixed64(uint32_t field, double value) {
    key(field, Wire::fixed64);
    raw_le(std::bit_cast<uint64_t>(value));
    return *this;
  }
  Proto& fixed32(uint32_t field, float value) {
    key(field, Wire::fixed32);
    raw_le(std::bit_cast<uint32_t>(value));
    return *this;
  }
  Proto& bytes(uint32_t field, const void* data, size_t size) {
    key(field, Wire::bytes);
    raw_varint(size);
    out_.append(static_cast<const char*>(data), size);
    return *this;
  }
  Proto& bytes(uint32_t field, const std::string& value) {
    return bytes(field, value.data(), value.size());
  }
  const std::string& str() const { return out_; }

 private:
  void key(uint32_t field, Wire wire) { raw_varint((uint64_t{field} << 3) | uint32_t(wire)); }
  void raw_varint(uint64_t v) {
    for (; v >= 0x80; v >>= 7) out_.push_back(char(uint8_t(v) | 0x80));
    out_.push_back(char(uint8_t(v)));
  }
  template <class T>
  void raw_le(T v) {
    out_.append(reinterpret_cast<const char*>(&v), sizeof v);
  }

  std::string out_;
};

// Event field numbers (tensorflow/core/util/event.proto). session_log is 7: field 6
// is the deprecated log_message, which readers would not treat as a restart.
constexpr uint32_t kWallTime = 1, kStep = 2, kFileVersion = 3, kSummary = 5, kSessionLog = 7;
constexpr uint32_t kSessionStatus = 1, kSessionStart = 1;
constexpr uint32_t kSummaryValue = 1, kValueTag = 1, kValueSimple = 2, kValueImage = 4;
constexpr uint32_t kImageHeight = 1, kImageWidth = 2, kImageColorspace = 3, kImageEncoded = 4;

double unix_seconds() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

// An Event with wall_time and step; the caller appends its payload field.
Proto event_header(int64_t step) {
  Proto event;
  event.fixed64(kWallTime, unix_seconds());
  event.varint(kStep, uint64_t(step));  // int64: negative steps become 10-byte varints
  return event;
}

std::string summary_event(int64_t step, const std::string& value) {
  std::string summary = Proto().bytes(kSummaryValue, value).str();
  return event_header(step).bytes(kSummary, summary).str();
}

std::string hostname() {
  std::array<char, 256> name{};
  if (::gethostname(name.data(), name.size() - 1) != 0 || name[0] == '\0') return "localhost";
  return name.data();
}

// The first free name of events.out.tfevents.<seconds>.<host>[.N] in run_dir.
OutputFile create_event_file(const std::string& run_dir) {
  std::error_code ec;
  std::filesystem::create_directories(run_dir, ec);
  if (ec) FT_FAIL("cannot create run directory {}: {}", run_dir, ec.message());
  const auto seconds = int64_t(unix_seconds());
  const std::string base =
      fmt::format("{}/events.out.tfevents.{}.{}", run_dir, seconds, hostname());
  for (int suffix = 0; suffix < 1000; ++suffix) {
    const std::string path = suffix == 0 ? base : fmt::format("{}.{}", base, suffix);
    if (auto file = OutputFile::create_new(path)) return std::move(*file);
  }
  FT_FAIL("cannot create an event file: {} and 999 suffixed names exist", base);
}

}  // namespace

TensorBoardWriter::TensorBoardWriter(const std::string& run_dir)
    : file_(create_event_file(run_dir)) {
  write_event(event_header(0).bytes(kFileVersion, std::string("brain.Event:2")).str());
  // Visible to a TensorBoard watching the directory right away.
  flush();
}

void TensorBoardWriter::add_scalar(const std::string& tag, double value, int64_t step) {
  std::string v = Proto().bytes(kValueTag, tag).fixed32(kValueSimple, float(value)).str();
  write_event(summary_event(step, v));
}

void TensorBoardWriter::add_image(const std::string& tag, const std::vector<uint8_t>& png_bytes,
                                  int height, int width, int channels, int64_t step) {
  FT_CHECK(height > 0 && width > 0, "image {} has size {}x{}", tag, height, width);
  FT_CHECK(channels >= 1 && channels <= 4, "image {} has {} channels (1 to 4)", tag, channels);
  FT_CHECK(!png_bytes.empty(), "image {} has no encoded bytes", tag);
  std::string image = Proto()
                          .varint(kImageHeight, uint64_t(height))
                          .varint(kImageWidth, uint64_t(width))
                          .varint(kImageColorspace, uint64_t(channels))
                          .bytes(kImageEncoded, png_bytes.data(), png_bytes.size())
                          .str();
  std::string v = Proto().bytes(kValueTag, tag).bytes(kValueImage, image).str();
  write_event(summary_event(step, v));
}

void TensorBoardWriter::add_session_start(int64_t step) {
  std::string log = Proto().varint(kSessionStatus, kSessionStart).str();
  write_event(event_header(step).bytes(kSessionLog, log).str());
}

void TensorBoardWriter::flush() { file_.sync(); }

void TensorBoardWriter::write_event(const std::string& event) {
  // TFRecord: length, masked CRC of the 8 length bytes, data, masked CRC of the data.
  const uint64_t length = event.size();
  const uint32_t length_crc = mask_crc32c(crc32c(&length, sizeof length));
  const uint32_t data_crc = mask_crc32c(crc32c(event.data(), event.size()));
  file_.write(&length, sizeof length);
  file_.write(&length_crc, sizeof length_crc);
  file_.write(event);
  file_.write(&data_crc, sizeof data_crc);
}

}  // namespace ft::io
