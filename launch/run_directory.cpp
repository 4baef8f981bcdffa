#include "launch/run_directory.h"

#include <fmt/core.h>

#include <fstream>

#include "framework/core/check.h"

namespace ft::launch {

RunDirectory::RunDirectory(std::filesystem::path root, bool writer) : root_(std::move(root)), writer_(writer) {
  if (!writer_) return;
  std::error_code error;
  std::filesystem::create_directories(root_ / "samples", error);
  if (error) FT_FAIL("cannot create run directory '{}': {}", root_.string(), error.message());
  std::filesystem::create_directories(root_ / "checkpoints", error);
  log_ = std::fopen((root_ / "log.txt").c_str(), "a");
  if (!log_) FT_FAIL("cannot open '{}' for appending", (root_ / "log.txt").string());
}

RunDirectory::~RunDirectory() {
  if (log_) std::fclose(log_);
}

void RunDirectory::save_config(const std::string& toml_text) const {
  if (!writer_) return;
  std::filesystem::path target = root_ / "config.toml", temporary = root_ / ".config.toml.tmp";
  {
    std::ofstream out(temporary);
    out << toml_text;
    if (!out) FT_FAIL("cannot write '{}'", temporary.string());
  }
  std::filesystem::rename(temporary, target);
}

void RunDirectory::log(const std::string& line) {
  if (!writer_) return;
  fmt::print("{}\n", line);
  std::fflush(stdout);
  fmt::print(log_, "{}\n", line);
  std::fflush(log_);
}

std::filesystem::path default_run_directory(const std::string& config_path) {
  return std::filesystem::path("runs") / std::filesystem::path(config_path).stem();
}

}  // namespace ft::launch
