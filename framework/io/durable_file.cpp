#include "framework/io/durable_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <system_error>
#include <vector>

#include "framework/core/check.h"

namespace ft::io {

namespace {

// Large writes are split so that one call never exceeds what Linux writes at once
// (2 GiB minus a page) and fault injection can land between pieces.
constexpr uint64_t kWritePiece = uint64_t(1) << 30;

int open_checked(const std::filesystem::path& path, int flags, std::string_view operation) {
  int fd = -1;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) fail_os(path, operation, errno);
  return fd;
}

}  // namespace

void fail_os(const std::filesystem::path& path, std::string_view operation, int error) {
  FT_FAIL("{}: {} failed: {}", path.string(), operation, std::strerror(error));
}

WritableFile WritableFile::create(const std::filesystem::path& path) {
  return WritableFile(open_checked(path, O_WRONLY | O_CREAT | O_TRUNC, "create"), path);
}

WritableFile WritableFile::open_existing(const std::filesystem::path& path) {
  return WritableFile(open_checked(path, O_WRONLY, "open"), path);
}

WritableFile::WritableFile(WritableFile&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) {
  other.fd_ = -1;
}

WritableFile::~WritableFile() {
  if (fd_ >= 0) ::close(fd_);  // only on an error path: close() reports errors otherwise
}

void WritableFile::reserve(uint64_t bytes) {
  if (bytes == 0) return;
  const int error = ::posix_fallocate(fd_, 0, off_t(bytes));
  // Some file systems cannot preallocate; the writes then report a full disk.
  if (error != 0 && error != EOPNOTSUPP && error != EINVAL) fail_os(path_, "reserving space", error);
}

void WritableFile::write_at(uint64_t offset, const void* data, uint64_t bytes) {
  const auto* p = static_cast<const char*>(data);
  while (bytes > 0) {
    const ssize_t n = ::pwrite(fd_, p, size_t(std::min(bytes, kWritePiece)), off_t(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_os(path_, "write", errno);
    if (n == 0) fail_os(path_, "write", ENOSPC);  // no progress: the device is full
    p += n;
    offset += uint64_t(n);
    bytes -= uint64_t(n);
  }
}

void WritableFile::sync() {
  if (::fsync(fd_) != 0) fail_os(path_, "fsync", errno);
}

void WritableFile::close() {
  const int fd = fd_;
  fd_ = -1;
  if (fd >= 0 && ::close(fd) != 0) fail_os(path_, "close", errno);
}

void sync_directory(const std::filesystem::path& dir) {
  const int fd = open_checked(dir, O_RDONLY | O_DIRECTORY, "open directory");
  const int status = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (status != 0) fail_os(dir, "fsync of directory", error);
}

void rename_path(const std::filesystem::path& from, const std::filesystem::path& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0)
    FT_FAIL("{}: rename to {} failed: {}", from.string(), to.filename().string(), std::strerror(errno));
}

void rename_durably(const std::filesystem::path& from, const std::filesystem::path& to) {
  WritableFile file = WritableFile::open_existing(from);
  file.sync();
  file.close();
  rename_path(from, to);
  sync_directory(to.has_parent_path() ? to.parent_path() : std::filesystem::path("."));
}

void make_directory(const std::filesystem::path& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0) fail_os(dir, "mkdir", errno);
}

void remove_tree(const std::filesystem::path& path) {
  std::error_code error;
  std::filesystem::remove_all(path, error);
  if (error) FT_FAIL("{}: removal failed: {}", path.string(), error.message());
}

void write_file_atomically(const std::filesystem::path& final_path, std::string_view content,
                           const std::function<void()>& halfway) {
  const std::filesystem::path folder = final_path.has_parent_path() ? final_path.parent_path() : ".";
  const std::filesystem::path temp = folder / fmt::format(".{}.tmp", final_path.filename().string());
  try {
    WritableFile file = WritableFile::create(temp);
    const size_t half = content.size() / 2;
    file.write_at(0, content.data(), half);
    if (halfway) halfway();
    file.write_at(half, content.data() + half, content.size() - half);
    file.sync();
    file.close();
    rename_path(temp, final_path);
  } catch (const Error& error) {
    std::error_code ignored;  // the first error is the one to report
    std::filesystem::remove(temp, ignored);
    FT_FAIL("writing {}: {}", final_path.string(), error.what());
  }
  sync_directory(folder);
}

std::string read_text_file(const std::filesystem::path& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!file) fail_os(path, "open", errno);
  std::string text;
  std::vector<char> buffer(1 << 16);
  size_t got = 0;
  while ((got = std::fread(buffer.data(), 1, buffer.size(), file.get())) > 0) text.append(buffer.data(), got);
  if (std::ferror(file.get())) fail_os(path, "read", errno);
  return text;
}

FileDigest digest_file(const std::filesystem::path& path) {
  const int fd = open_checked(path, O_RDONLY, "open");
  std::unique_ptr<XXH3_state_t, XXH_errorcode (*)(XXH3_state_t*)> state(XXH3_createState(), XXH3_freeState);
  XXH3_64bits_reset(state.get());
  std::vector<char> buffer(size_t(8) << 20);
  FileDigest digest;
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      fail_os(path, "read", error);
    }
    if (n == 0) break;
    XXH3_64bits_update(state.get(), buffer.data(), size_t(n));
    digest.bytes += uint64_t(n);
  }
  ::close(fd);
  digest.checksum = checksum_hex(XXH3_64bits_digest(state.get()));
  return digest;
}

std::string checksum_hex(uint64_t value) { return fmt::format("{:016x}", value); }

std::string checksum_hex(const void* data, size_t bytes) { return checksum_hex(XXH3_64bits(data, bytes)); }

void drop_cached_pages(const std::filesystem::path& path) {
  const int fd = open_checked(path, O_RDONLY, "open");
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);  // advice: nothing to do when it is ignored
  ::close(fd);
}

}  // namespace ft::io
