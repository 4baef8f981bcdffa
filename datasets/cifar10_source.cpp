#include "datasets/cifar10_source.h"

#include <algorithm>
#include <fstream>

#include "framework/core/check.h"

namespace ft::datasets {

namespace {

constexpr int64_t kSide = 32, kPixels = 32 * 32 * 3, kRecord = 1 + kPixels;

std::vector<std::filesystem::path> expand_batches(const std::vector<std::filesystem::path>& paths) {
  std::vector<std::filesystem::path> files;
  for (const std::filesystem::path& path : paths) {
    if (!std::filesystem::is_directory(path)) {
      files.push_back(path);
      continue;
    }
    std::vector<std::filesystem::path> found;
    for (const auto& entry : std::filesystem::directory_iterator(path))
      if (entry.path().extension() == ".bin") found.push_back(entry.path());
    if (found.empty()) FT_FAIL("{}: no CIFAR-10 .bin batches in the folder", path.string());
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

std::vector<std::string> read_class_names(const std::filesystem::path& meta) {
  std::vector<std::string> names;
  std::ifstream in(meta);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) names.push_back(line);
  return names;
}

}  // namespace

Cifar10Source::Cifar10Source(const std::vector<std::filesystem::path>& paths) : files_(expand_batches(paths)) {
  for (const std::filesystem::path& file : files_) {
    if (!std::filesystem::is_regular_file(file)) FT_FAIL("{}: no such CIFAR-10 batch file", file.string());
    auto bytes = int64_t(std::filesystem::file_size(file));
    if (bytes == 0 || bytes % kRecord != 0)
      FT_FAIL("{}: {} bytes is not a whole number of {}-byte CIFAR-10 records (truncated?)", file.string(), bytes, kRecord);
    count_ += bytes / kRecord;
  }
  std::filesystem::path meta = files_.front().parent_path() / "batches.meta.txt";
  if (std::filesystem::exists(meta)) class_names_ = read_class_names(meta);
}

nlohmann::json Cifar10Source::description() const {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& file : files_) files.push_back(file.string());
  return {{"kind", "cifar10"}, {"files", files}};
}

void Cifar10Source::open_next_file() {
  FT_CHECK(next_file_ < files_.size(), "read past the last CIFAR-10 batch");
  const std::filesystem::path& file = files_[next_file_++];
  current_.reset(std::fopen(file.c_str(), "rb"));
  if (!current_) FT_FAIL("{}: cannot open", file.string());
  left_in_current_ = int64_t(std::filesystem::file_size(file)) / kRecord;
}

void Cifar10Source::read(int64_t count, const ImageShape& target, SourceBlock& block) {
  prepare_block(block, count, target);
  native_.resize(size_t(count * kPixels));
  records_.resize(size_t(kRecord));
  for (int64_t i = 0; i < count; ++i) {
    while (left_in_current_ == 0) open_next_file();
    if (std::fread(records_.data(), 1, size_t(kRecord), current_.get()) != size_t(kRecord))
      FT_FAIL("{}: truncated while reading", files_[next_file_ - 1].string());
    --left_in_current_;
    block.labels[size_t(i)] = records_[0];
    // CHW planes to HWC.
    uint8_t* out = native_.data() + i * kPixels;
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t p = 0; p < kSide * kSide; ++p) out[p * 3 + c] = records_[size_t(1 + c * kSide * kSide + p)];
  }
  fit_native_block(native_.data(), count, ImageShape{kSide, kSide, 3}, target, block);
}

void Cifar10Source::skip(int64_t count) {
  while (count > 0) {
    while (left_in_current_ == 0) open_next_file();
    int64_t take = std::min(count, left_in_current_);
    if (std::fseek(current_.get(), long(take * kRecord), SEEK_CUR) != 0)
      FT_FAIL("{}: cannot seek past {} records", files_[next_file_ - 1].string(), take);
    left_in_current_ -= take;
    count -= take;
  }
}

}  // namespace ft::datasets
