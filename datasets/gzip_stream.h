// Sequential reading of a file that may or may not be gzipped (zlib's gzread
// passes plain files through).
#pragma once
#include <zlib.h>

#include <cstddef>
#include <filesystem>
#include <string>

namespace ft::datasets {

class GzipStream {
 public:
  explicit GzipStream(const std::filesystem::path& path);
  GzipStream(const GzipStream&) = delete;
  GzipStream& operator=(const GzipStream&) = delete;
  ~GzipStream();
  // Reads exactly `bytes`; a short read is an error naming the file as truncated.
  void read_exact(void* out, size_t bytes);
  const std::string& path() const { return path_; }

 private:
  gzFile file_ = nullptr;
  std::string path_;
};

}  // namespace ft::datasets
