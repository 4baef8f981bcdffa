// A buffered output stream for files that grow while a run goes on (event files,
// metrics.jsonl, log.txt). Every failure (open, short write, disk full at flush,
// fsync) throws ft::Error naming the file and the system's reason, so none of them
// loses data silently. A file written whole goes through write_file_atomically
// (durable_file.h) instead.
#pragma once
#include <cstddef>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

namespace ft::io {

class OutputFile {
 public:
  enum class Mode { truncate, append };

  OutputFile(std::string path, Mode mode);
  // Creates `path` only if nothing exists there (O_EXCL); nullopt when it exists,
  // so callers can pick another name instead of overwriting.
  static std::optional<OutputFile> create_new(const std::string& path);

  OutputFile(OutputFile&&) noexcept = default;
  OutputFile& operator=(OutputFile&&) noexcept = default;
  // Closes without throwing; a failure there is reported on stderr. Call close()
  // to get errors as exceptions.
  ~OutputFile();

  void write(const void* data, size_t size);
  void write(const std::string& bytes) { write(bytes.data(), bytes.size()); }
  void flush();  // hands buffered bytes to the kernel (fflush)
  void sync();   // flush() then fsync: the bytes survive a crash of the machine
  void close();  // flush() then fclose; the object is unusable afterwards
  const std::string& path() const { return path_; }

 private:
  struct Closer {
    void operator()(std::FILE* f) const;
  };
  OutputFile(std::string path, std::FILE* file) : path_(std::move(path)), file_(file) {}
  std::FILE* handle() const;

  std::string path_;
  std::unique_ptr<std::FILE, Closer> file_;
};

}  // namespace ft::io
