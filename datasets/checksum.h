// Shard checksums: XXH3-64 of a file's bytes, as 16 hex digits.
#pragma once
#include <filesystem>
#include <string>

namespace ft::datasets {

inline constexpr const char* kChecksumAlgorithm = "xxh3_64";
std::string file_checksum(const std::filesystem::path& path);

}  // namespace ft::datasets
