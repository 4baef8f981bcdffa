// Durable writes: a file is complete under its final name or not there at all.
#pragma once
#include <filesystem>
#include <string>

namespace ft::datasets {

// fsync of a file's contents, and of a directory so a rename inside it survives a crash.
void fsync_path(const std::filesystem::path& path);
// Renames `from` to `to` after fsyncing `from`, then fsyncs the parent directory.
void durable_rename(const std::filesystem::path& from, const std::filesystem::path& to);
// Writes text under a temporary name, fsyncs and renames it over `path`.
void write_file_durably(const std::filesystem::path& path, const std::string& text);
std::string read_text_file(const std::filesystem::path& path);

}  // namespace ft::datasets
