#include "datasets/durable_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "framework/core/check.h"

namespace ft::datasets {

void fsync_path(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) FT_FAIL("{}: cannot open to fsync: {}", path.string(), std::strerror(errno));
  int status = ::fsync(fd);
  int error = errno;
  ::close(fd);
  if (status != 0) FT_FAIL("{}: fsync failed: {}", path.string(), std::strerror(error));
}

void durable_rename(const std::filesystem::path& from, const std::filesystem::path& to) {
  fsync_path(from);
  std::error_code error;
  std::filesystem::rename(from, to, error);
  if (error) FT_FAIL("{}: cannot rename to {}: {}", from.string(), to.string(), error.message());
  fsync_path(to.parent_path().empty() ? std::filesystem::path(".") : to.parent_path());
}

void write_file_durably(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::path temporary = path;
  temporary += ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) FT_FAIL("{}: cannot create", temporary.string());
    out << text;
    out.close();
    if (!out) FT_FAIL("{}: write failed", temporary.string());
  }
  durable_rename(temporary, path);
}

std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) FT_FAIL("{}: cannot open", path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace ft::datasets
