#include "framework/io/output_file.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "framework/core/check.h"
#include "framework/io/durable_file.h"

namespace ft::io {

void OutputFile::Closer::operator()(std::FILE* f) const { std::fclose(f); }

OutputFile::OutputFile(std::string path, Mode mode) : path_(std::move(path)) {
  std::FILE* f = std::fopen(path_.c_str(), mode == Mode::append ? "ab" : "wb");
  if (f == nullptr) fail_os(path_, mode == Mode::append ? "open for appending" : "create", errno);
  file_.reset(f);
}

std::optional<OutputFile> OutputFile::create_new(const std::string& path) {
  // "x" is glibc's O_EXCL: creation and the existence check are one atomic step.
  std::FILE* f = std::fopen(path.c_str(), "wbx");
  if (f != nullptr) return OutputFile(path, f);
  if (errno == EEXIST) return std::nullopt;
  fail_os(path, "create", errno);
}

OutputFile::~OutputFile() {
  if (!file_) return;
  std::FILE* f = file_.release();
  const bool flushed = std::fflush(f) == 0;
  const bool closed = std::fclose(f) == 0;
  if (!flushed || !closed) fmt::print(stderr, "warning: {}: close failed: {}\n", path_, std::strerror(errno));
}

std::FILE* OutputFile::handle() const {
  FT_CHECK(file_ != nullptr, "{} is already closed", path_);
  return file_.get();
}

void OutputFile::write(const void* data, size_t size) {
  if (size == 0) return;
  if (std::fwrite(data, 1, size, handle()) != size)
    fail_os(path_, fmt::format("write of {} bytes", size), errno);
}

void OutputFile::flush() {
  if (std::fflush(handle()) != 0) fail_os(path_, "write", errno);
}

void OutputFile::sync() {
  flush();
  if (::fsync(::fileno(handle())) != 0) fail_os(path_, "fsync", errno);
}

void OutputFile::close() {
  flush();
  const int rc = std::fclose(file_.release());
  if (rc != 0) fail_os(path_, "close", errno);
}

}  // namespace ft::io
