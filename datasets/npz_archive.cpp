#include "datasets/npz_archive.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "framework/core/check.h"

namespace ft::datasets {

namespace {

uint64_t little_endian(const uint8_t* p, int bytes) {
  uint64_t value = 0;
  for (int i = bytes - 1; i >= 0; --i) value = (value << 8) | p[i];
  return value;
}

std::vector<uint8_t> read_at(FILE* file, uint64_t offset, size_t bytes, const std::string& path) {
  std::vector<uint8_t> out(bytes);
  if (fseeko(file, off_t(offset), SEEK_SET) != 0 || std::fread(out.data(), 1, bytes, file) != bytes)
    FT_FAIL("{}: truncated zip archive (reading {} bytes at {})", path, bytes, offset);
  return out;
}

struct CentralDirectory {
  uint64_t entries, offset, size;
};

CentralDirectory find_central_directory(FILE* file, uint64_t file_size, const std::string& path) {
  uint64_t tail = std::min<uint64_t>(file_size, 65535 + 22);
  std::vector<uint8_t> end = read_at(file, file_size - tail, size_t(tail), path);
  for (int64_t i = int64_t(tail) - 22; i >= 0; --i) {
    const uint8_t* p = end.data() + i;
    if (little_endian(p, 4) != 0x06054b50) continue;
    CentralDirectory directory{little_endian(p + 10, 2), little_endian(p + 16, 4), little_endian(p + 12, 4)};
    bool zip64 = directory.entries == 0xFFFF || directory.offset == 0xFFFFFFFF || directory.size == 0xFFFFFFFF;
    if (!zip64) return directory;
    uint64_t locator_at = file_size - tail + uint64_t(i) - 20;
    std::vector<uint8_t> locator = read_at(file, locator_at, 20, path);
    if (little_endian(locator.data(), 4) != 0x07064b50) FT_FAIL("{}: zip64 locator missing", path);
    std::vector<uint8_t> record = read_at(file, little_endian(locator.data() + 8, 8), 56, path);
    if (little_endian(record.data(), 4) != 0x06064b50) FT_FAIL("{}: zip64 end record missing", path);
    return {little_endian(record.data() + 32, 8), little_endian(record.data() + 48, 8), little_endian(record.data() + 40, 8)};
  }
  FT_FAIL("{}: not a zip/npz archive (no end of central directory)", path);
}

// Zip64 extra field: 64-bit values for whichever 32-bit fields are saturated.
void apply_zip64_extra(const uint8_t* extra, size_t length, ZipEntry& entry) {
  for (size_t at = 0; at + 4 <= length;) {
    uint64_t id = little_endian(extra + at, 2), size = little_endian(extra + at + 2, 2);
    if (id == 0x0001) {
      const uint8_t* value = extra + at + 4;
      if (entry.size == 0xFFFFFFFF) entry.size = little_endian(value, 8), value += 8;
      if (entry.compressed_size == 0xFFFFFFFF) entry.compressed_size = little_endian(value, 8), value += 8;
      if (entry.local_header_offset == 0xFFFFFFFF) entry.local_header_offset = little_endian(value, 8);
    }
    at += 4 + size_t(size);
  }
}

}  // namespace

std::vector<ZipEntry> list_zip_entries(const std::filesystem::path& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!file) FT_FAIL("{}: cannot open", path.string());
  uint64_t file_size = std::filesystem::file_size(path);
  if (file_size < 22) FT_FAIL("{}: too short for a zip/npz archive", path.string());
  CentralDirectory directory = find_central_directory(file.get(), file_size, path.string());
  if (directory.offset + directory.size > file_size) FT_FAIL("{}: truncated zip archive", path.string());
  std::vector<uint8_t> bytes = read_at(file.get(), directory.offset, size_t(directory.size), path.string());
  std::vector<ZipEntry> entries;
  for (size_t at = 0; entries.size() < directory.entries;) {
    if (at + 46 > bytes.size() || little_endian(&bytes[at], 4) != 0x02014b50)
      FT_FAIL("{}: corrupt zip central directory", path.string());
    const uint8_t* p = &bytes[at];
    size_t name_length = little_endian(p + 28, 2), extra_length = little_endian(p + 30, 2),
           comment_length = little_endian(p + 32, 2);
    if (at + 46 + name_length + extra_length > bytes.size()) FT_FAIL("{}: corrupt zip central directory", path.string());
    ZipEntry entry{std::string(reinterpret_cast<const char*>(p + 46), name_length), uint16_t(little_endian(p + 10, 2)),
                   little_endian(p + 20, 4), little_endian(p + 24, 4), little_endian(p + 42, 4)};
    apply_zip64_extra(p + 46 + name_length, extra_length, entry);
    entries.push_back(std::move(entry));
    at += 46 + name_length + extra_length + comment_length;
  }
  return entries;
}

ZipEntryStream::ZipEntryStream(const std::filesystem::path& path, const ZipEntry& entry)
    : path_(path.string()), name_(entry.name), method_(entry.method), compressed_left_(entry.compressed_size) {
  if (method_ != 0 && method_ != 8) FT_FAIL("{}: zip compression method {} is not stored or deflate", where(), method_);
  file_.reset(std::fopen(path.c_str(), "rb"));
  if (!file_) FT_FAIL("{}: cannot open", path_);
  std::vector<uint8_t> local = read_at(file_.get(), entry.local_header_offset, 30, path_);
  if (little_endian(local.data(), 4) != 0x04034b50) FT_FAIL("{}: corrupt zip local header", where());
  uint64_t data_at = entry.local_header_offset + 30 + little_endian(local.data() + 26, 2) + little_endian(local.data() + 28, 2);
  if (data_at + entry.compressed_size > std::filesystem::file_size(path)) FT_FAIL("{}: truncated zip entry", where());
  if (fseeko(file_.get(), off_t(data_at), SEEK_SET) != 0) FT_FAIL("{}: cannot seek", where());
  if (method_ == 8) {
    FT_CHECK(inflateInit2(&inflater_, -15) == Z_OK, "{}: inflateInit2 failed", where());  // raw deflate
    inflating_ = true;
    input_.resize(1 << 18);
  }
}

ZipEntryStream::~ZipEntryStream() {
  if (inflating_) inflateEnd(&inflater_);
}

size_t ZipEntryStream::read_raw(uint8_t* out, size_t bytes) {
  size_t wanted = size_t(std::min<uint64_t>(bytes, compressed_left_));
  size_t got = std::fread(out, 1, wanted, file_.get());
  compressed_left_ -= got;
  return got;
}

void ZipEntryStream::read_exact(void* out, size_t bytes) {
  auto* cursor = static_cast<uint8_t*>(out);
  if (!inflating_) {
    if (read_raw(cursor, bytes) != bytes) FT_FAIL("{}: truncated ({} bytes short)", where(), bytes);
    return;
  }
  inflater_.next_out = cursor;
  inflater_.avail_out = 0;
  while (bytes > 0) {
    if (inflater_.avail_in == 0) {
      inflater_.avail_in = uInt(read_raw(input_.data(), input_.size()));
      inflater_.next_in = input_.data();
      if (inflater_.avail_in == 0) FT_FAIL("{}: truncated deflate stream", where());
    }
    uInt piece = uInt(std::min<size_t>(bytes, 1u << 30));
    inflater_.next_out = cursor;
    inflater_.avail_out = piece;
    int status = inflate(&inflater_, Z_NO_FLUSH);
    if (status != Z_OK && status != Z_STREAM_END) FT_FAIL("{}: corrupt deflate stream ({})", where(), status);
    size_t produced = piece - inflater_.avail_out;
    cursor += produced;
    bytes -= produced;
    if (status == Z_STREAM_END && bytes > 0) FT_FAIL("{}: entry ends {} bytes early", where(), bytes);
  }
}

namespace {

std::string quoted_value(const std::string& header, const std::string& key, const std::string& where) {
  size_t at = header.find("'" + key + "'");
  if (at == std::string::npos) FT_FAIL("{}: .npy header lacks '{}'", where, key);
  size_t open = header.find_first_of("'\"", header.find(':', at) + 1);
  size_t close = header.find(header[open], open + 1);
  return header.substr(open + 1, close - open - 1);
}

std::vector<int64_t> parse_shape(const std::string& header, const std::string& where) {
  size_t at = header.find("'shape'");
  if (at == std::string::npos) FT_FAIL("{}: .npy header lacks 'shape'", where);
  size_t open = header.find('(', at), close = header.find(')', open);
  std::vector<int64_t> shape;
  std::string inside = header.substr(open + 1, close - open - 1);
  for (size_t i = 0; i < inside.size();) {
    if (std::isdigit(static_cast<unsigned char>(inside[i]))) {
      size_t used = 0;
      shape.push_back(std::stoll(inside.substr(i), &used));
      i += used;
    } else {
      ++i;
    }
  }
  return shape;
}

}  // namespace

NpyStream::NpyStream(const std::filesystem::path& npz, const std::string& array_name) {
  std::vector<ZipEntry> entries = list_zip_entries(npz);
  auto found = std::find_if(entries.begin(), entries.end(), [&](const ZipEntry& e) { return e.name == array_name + ".npy"; });
  if (found == entries.end()) FT_FAIL("{}: no array '{}' in the npz", npz.string(), array_name);
  entry_ = std::make_unique<ZipEntryStream>(npz, *found);
  read_header();
}

NpyStream::NpyStream(const std::filesystem::path& npy) : path_(npy.string()) {
  file_.reset(std::fopen(npy.c_str(), "rb"));
  if (!file_) FT_FAIL("{}: cannot open", path_);
  read_header();
}

void NpyStream::read_exact(void* out, size_t bytes) {
  if (entry_) return entry_->read_exact(out, bytes);
  if (std::fread(out, 1, bytes, file_.get()) != bytes) FT_FAIL("{}: truncated .npy data", path_);
}

void NpyStream::read_header() {
  uint8_t preamble[10];
  read_exact(preamble, 8);
  if (std::memcmp(preamble, "\x93NUMPY", 6) != 0) FT_FAIL("{}: not an .npy array (bad magic)", where());
  int major = preamble[6];
  if (major < 1 || major > 3) FT_FAIL("{}: .npy format version {} is not 1, 2 or 3", where(), major);
  int length_bytes = major == 1 ? 2 : 4;
  read_exact(preamble + 8, size_t(length_bytes));
  std::string header(size_t(little_endian(preamble + 8, length_bytes)), '\0');
  read_exact(header.data(), header.size());
  descr_ = quoted_value(header, "descr", where());
  size_t fortran = header.find("'fortran_order'");
  if (fortran == std::string::npos) FT_FAIL("{}: .npy header lacks 'fortran_order'", where());
  size_t value = header.find_first_not_of(" ", header.find(':', fortran) + 1);
  if (header.compare(value, 4, "True") == 0)
    FT_FAIL("{}: Fortran-ordered arrays (dtype {}) are not supported; save it in C order (np.ascontiguousarray)",
            where(), descr_);
  shape_ = parse_shape(header, where());
}

}  // namespace ft::datasets
