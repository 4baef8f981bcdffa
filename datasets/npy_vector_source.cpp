#include "datasets/npy_vector_source.h"

#include <cmath>
#include <cstring>

#include "framework/core/check.h"

namespace ft::datasets {

namespace {

// Bytes of one value for the dtypes a vector set takes; 0 for any other.
size_t value_bytes(const std::string& descr) {
  if (descr == "<f4") return 4;
  if (descr == "<f8") return 8;
  return 0;
}

}  // namespace

NpyVectorSource::NpyVectorSource(const std::vector<std::filesystem::path>& paths) : files_(paths) {
  if (files_.empty()) FT_FAIL("no .npy file given");
  for (const std::filesystem::path& file : files_) {
    NpyStream data(file);
    if (value_bytes(data.descr()) == 0)
      FT_FAIL("{}: dtype {} is not float32 or float64 (little-endian '<f4' or '<f8')", data.where(), data.descr());
    if (data.shape().size() != 2 || data.shape()[1] < 1)
      FT_FAIL("{}: expected a 2-D array [N, D] with D >= 1, got {} dimensions", data.where(), data.shape().size());
    if (features_ != 0 && data.shape()[1] != features_)
      FT_FAIL("{}: {} features per row, but {} has {}", data.where(), data.shape()[1], files_[0].string(), features_);
    features_ = data.shape()[1];
    count_ += data.shape()[0];
  }
}

nlohmann::json NpyVectorSource::description() const {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& file : files_) files.push_back(file.string());
  return {{"kind", "npy"}, {"files", files}};
}

void NpyVectorSource::open_next_file() {
  FT_CHECK(next_file_ < files_.size(), "read past the last .npy file");
  data_ = std::make_unique<NpyStream>(files_[next_file_++]);
  left_in_current_ = data_->shape()[0];
  row_in_current_ = 0;
}

void NpyVectorSource::read_rows(int64_t rows, float* out) {
  const size_t bytes = value_bytes(data_->descr());
  const int64_t values = rows * features_;
  raw_.resize(size_t(values) * bytes);
  data_->read_exact(raw_.data(), raw_.size());
  // The host is little-endian, as the accepted dtypes are.
  for (int64_t i = 0; i < values; ++i) {
    double value = 0;
    if (bytes == 4) {
      float single;
      std::memcpy(&single, raw_.data() + i * 4, 4);
      value = single;
    } else {
      std::memcpy(&value, raw_.data() + i * 8, 8);
    }
    out[i] = float(value);
    if (!std::isfinite(out[i]))
      FT_FAIL("{}: value [{}, {}] is {} (not finite as float32)", data_->where(), row_in_current_ + i / features_,
              i % features_, value);
  }
  row_in_current_ += rows;
}

void NpyVectorSource::read(int64_t count, VectorBlock& block) {
  prepare_vector_block(block, count, features_);
  for (int64_t done = 0; done < count;) {
    while (left_in_current_ == 0) open_next_file();
    int64_t take = std::min(count - done, left_in_current_);
    read_rows(take, block.features.data() + done * features_);
    done += take;
    left_in_current_ -= take;
  }
}

void NpyVectorSource::skip(int64_t count) {
  VectorBlock scratch;
  for (int64_t left = count; left > 0; left -= 4096) read(std::min<int64_t>(left, 4096), scratch);
}

}  // namespace ft::datasets
