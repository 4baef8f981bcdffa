// A run directory: config.toml (resolved), metrics.jsonl, events.out.tfevents.*,
// samples/, checkpoints/, log.txt. Only rank 0 writes into it.
#pragma once
#include <filesystem>
#include <optional>
#include <string>

#include "framework/io/output_file.h"

namespace ft::launch {

class RunDirectory {
 public:
  // Creates the folder tree (rank 0); the config is written by save_config().
  RunDirectory(std::filesystem::path root, bool writer);
  RunDirectory(const RunDirectory&) = delete;
  RunDirectory& operator=(const RunDirectory&) = delete;

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path samples() const { return root_ / "samples"; }
  std::filesystem::path checkpoints() const { return root_ / "checkpoints"; }
  std::filesystem::path metrics() const { return root_ / "metrics.jsonl"; }
  void save_config(const std::string& toml_text) const;  // atomically, config.toml
  // Prints a line on stdout and appends it to log.txt (rank 0 only; others ignore).
  void log(const std::string& line);
  bool writer() const { return writer_; }

 private:
  std::filesystem::path root_;
  bool writer_;
  std::optional<io::OutputFile> log_;
};

// runs/<config file stem> when --run-dir is not given.
std::filesystem::path default_run_directory(const std::string& config_path);

}  // namespace ft::launch
