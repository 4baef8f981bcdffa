#include "datasets/gzip_stream.h"

#include <climits>

#include "framework/core/check.h"

namespace ft::datasets {

GzipStream::GzipStream(const std::filesystem::path& path) : path_(path.string()) {
  file_ = gzopen(path_.c_str(), "rb");
  if (!file_) FT_FAIL("{}: cannot open", path_);
  gzbuffer(file_, 1 << 18);
}

GzipStream::~GzipStream() {
  if (file_) gzclose(file_);
}

void GzipStream::read_exact(void* out, size_t bytes) {
  auto* cursor = static_cast<char*>(out);
  while (bytes > 0) {
    unsigned piece = bytes > size_t(INT_MAX / 2) ? unsigned(INT_MAX / 2) : unsigned(bytes);
    int got = gzread(file_, cursor, piece);
    if (got <= 0) {
      int code = 0;
      const char* message = gzerror(file_, &code);
      FT_FAIL("{}: truncated or corrupt ({} more bytes expected{}{})", path_, bytes,
              code != Z_OK ? ": " : "", code != Z_OK ? message : "");
    }
    cursor += got;
    bytes -= size_t(got);
  }
}

}  // namespace ft::datasets
