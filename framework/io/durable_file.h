// The one way to write, read and digest files durably (checkpoints, dataset shards and
// manifests, run outputs). Every failure throws ft::Error with one line naming the
// file, the operation and the OS error (strerror), so that a full disk reads
// "...: write failed: No space left on device".
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace ft::io {

[[noreturn]] void fail_os(const std::filesystem::path& path, std::string_view operation, int error);

// An owned file descriptor opened for writing.
class WritableFile {
 public:
  // Creates (truncating) or opens an existing file.
  static WritableFile create(const std::filesystem::path& path);
  static WritableFile open_existing(const std::filesystem::path& path);
  WritableFile(WritableFile&& other) noexcept;
  WritableFile& operator=(WritableFile&&) = delete;
  WritableFile(const WritableFile&) = delete;
  ~WritableFile();

  // Reserves blocks up to `bytes`, so that a full disk shows here, with its errno,
  // rather than later inside a library.
  void reserve(uint64_t bytes);
  void write_at(uint64_t offset, const void* data, uint64_t bytes);
  void sync();
  void close();  // checked: NFS reports some write errors only at close

 private:
  WritableFile(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::filesystem::path path_;
};

// fsync of a directory, which makes the renames and creations in it durable.
void sync_directory(const std::filesystem::path& dir);
void rename_path(const std::filesystem::path& from, const std::filesystem::path& to);
// For a file written elsewhere (by HDF5, say): fsync `from`, rename it to `to`, fsync
// the folder of `to`. A crash leaves the file under one of the two names, complete.
void rename_durably(const std::filesystem::path& from, const std::filesystem::path& to);
void make_directory(const std::filesystem::path& dir);
// Removes a tree; a missing path is fine.
void remove_tree(const std::filesystem::path& path);

// Writes `content` to final_path through ".<name>.tmp" in the same folder: write,
// fsync, rename, fsync the folder. A crash leaves either the old file or the new
// one; on an error the temporary is removed. `halfway` runs after the first half is
// written (fault injection).
void write_file_atomically(const std::filesystem::path& final_path, std::string_view content,
                           const std::function<void()>& halfway = {});
std::string read_text_file(const std::filesystem::path& path);  // throws naming the file

// Checksums of checkpoint shards and dataset shards: XXH3-64 as 16 lowercase hex digits.
inline constexpr const char* kChecksumAlgorithm = "xxh3_64";
struct FileDigest {
  uint64_t bytes = 0;
  std::string checksum;
};
FileDigest digest_file(const std::filesystem::path& path);
std::string checksum_hex(uint64_t value);
std::string checksum_hex(const void* data, size_t bytes);  // xxh3_64 of a buffer

// Asks the kernel to drop this file's cached pages (after fsync they are clean):
// lets a benchmark read from the disk instead of the page cache.
void drop_cached_pages(const std::filesystem::path& path);

}  // namespace ft::io
