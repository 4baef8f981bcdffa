#include "launch/run_directory.h"

#include <fmt/core.h>

#include "framework/core/check.h"
#include "framework/io/durable_file.h"

namespace ft::launch {

RunDirectory::RunDirectory(std::filesystem::path root, bool writer) : root_(std::move(root)), writer_(writer) {
  if (!writer_) return;
  std::error_code error;
  std::filesystem::create_directories(root_ / "samples", error);
  if (error) FT_FAIL("cannot create run directory '{}': {}", root_.string(), error.message());
  std::filesystem::create_directories(root_ / "checkpoints", error);
  if (error) FT_FAIL("cannot create '{}': {}", (root_ / "checkpoints").string(), error.message());
  log_.emplace((root_ / "log.txt").string(), io::OutputFile::Mode::append);
}

void RunDirectory::save_config(const std::string& toml_text) const {
  if (!writer_) return;
  io::write_file_atomically(root_ / "config.toml", toml_text);
}

void RunDirectory::log(const std::string& line) {
  if (!writer_) return;
  fmt::print("{}\n", line);
  std::fflush(stdout);
  log_->write(line + "\n");
  log_->flush();
}

std::filesystem::path default_run_directory(const std::string& config_path) {
  return std::filesystem::path("runs") / std::filesystem::path(config_path).stem();
}

}  // namespace ft::launch
