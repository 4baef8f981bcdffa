#include "framework/io/output_file.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "framework/core/check.h"

namespace ft::io {
namespace {

std::string reason() { return std::strerror(errno); }

}  // namespace

void OutputFile::Closer::operator()(std::FILE* f) const { std::fclose(f); }

OutputFile::OutputFile(std::string path, Mode mode) : path_(std::move(path)) {
  std::FILE* f = std::fopen(path_.c_str(), mode == Mode::append ? "ab" : "wb");
  if (f == nullptr) FT_FAIL("cannot open {} for writing: {}", path_, reason());
  file_.reset(f);
}

std::optional<OutputFile> OutputFile::create_new(const std::string& path) {
  // "x" is glibc's O_EXCL: creation and the existence check are one atomic step.
  std::FILE* f = std::fopen(path.c_str(), "wbx");
  if (f != nullptr) return OutputFile(path, f);
  if (errno == EEXIST) return std::nullopt;
  FT_FAIL("cannot create {}: {}", path, reason());
}

OutputFile::~OutputFile() {
  if (!file_) return;
  std::FILE* f = file_.release();
  const bool flushed = std::fflush(f) == 0;
  const bool closed = std::fclose(f) == 0;
  if (!flushed || !closed) fmt::print(stderr, "warning: closing {} failed: {}\n", path_, reason());
}

std::FILE* OutputFile::handle() const {
  FT_CHECK(file_ != nullptr, "{} is already closed", path_);
  return file_.get();
}

void OutputFile::write(const void* data, size_t size) {
  if (size == 0) return;
  if (std::fwrite(data, 1, size, handle()) != size)
    FT_FAIL("writing {} bytes to {} failed: {}", size, path_, reason());
}

void OutputFile::flush() {
  if (std::fflush(handle()) != 0) FT_FAIL("writing to {} failed: {}", path_, reason());
}

void OutputFile::sync() {
  flush();
  if (::fsync(::fileno(handle())) != 0) FT_FAIL("fsync of {} failed: {}", path_, reason());
}

void OutputFile::close() {
  flush();
  const int rc = std::fclose(file_.release());
  if (rc != 0) FT_FAIL("closing {} failed: {}", path_, reason());
}

}  // namespace ft::io
