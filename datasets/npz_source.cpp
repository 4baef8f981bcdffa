#include "datasets/npz_source.h"

#include <cmath>
#include <cstring>

#include "framework/core/check.h"

namespace ft::datasets {

namespace {

// Integer label dtypes numpy writes: little-endian or byte-sized, signed or not.
int label_bytes(const std::string& descr, bool& is_signed) {
  if (descr.size() != 3 || (descr[0] != '<' && descr[0] != '|') || (descr[1] != 'i' && descr[1] != 'u'))
    return 0;
  is_signed = descr[1] == 'i';
  int bytes = descr[2] - '0';
  return (bytes == 1 || bytes == 2 || bytes == 4 || bytes == 8) ? bytes : 0;
}

}  // namespace

NpzSource::NpzSource(const std::vector<std::filesystem::path>& paths) : files_(paths) {
  for (const std::filesystem::path& file : files_) {
    NpyStream data(file, "data"), labels(file, "labels");
    if (data.descr() != "|u1") FT_FAIL("{}: dtype {} is not uint8", data.where(), data.descr());
    if (data.shape().size() != 2) FT_FAIL("{}: expected 2 dimensions [N, 3*R*R], got {}", data.where(), data.shape().size());
    auto side = int64_t(std::lround(std::sqrt(double(data.shape()[1]) / 3.0)));
    if (3 * side * side != data.shape()[1]) FT_FAIL("{}: row length {} is not 3*R*R", data.where(), data.shape()[1]);
    ImageShape shape{side, side, 3};
    if (shape_.bytes() != 0 && !(shape == shape_))
      FT_FAIL("{}: {}x{} images, but {} holds {}x{}", file.string(), side, side, files_[0].string(), shape_.height, shape_.width);
    shape_ = shape;
    bool is_signed = false;
    if (labels.shape().size() != 1 || labels.shape()[0] != data.shape()[0])
      FT_FAIL("{}: labels shape does not match the {} images", labels.where(), data.shape()[0]);
    if (label_bytes(labels.descr(), is_signed) == 0) FT_FAIL("{}: dtype {} is not an integer type", labels.where(), labels.descr());
    count_ += data.shape()[0];
  }
}

nlohmann::json NpzSource::description() const {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& file : files_) files.push_back(file.string());
  return {{"kind", "npz"}, {"files", files}};
}

void NpzSource::open_next_file() {
  FT_CHECK(next_file_ < files_.size(), "read past the last npz file");
  const std::filesystem::path& file = files_[next_file_++];
  data_ = std::make_unique<NpyStream>(file, "data");
  labels_ = std::make_unique<NpyStream>(file, "labels");
  left_in_current_ = data_->shape()[0];
}

void NpzSource::read_labels(int64_t count, int32_t* out) {
  bool is_signed = false;
  int bytes = label_bytes(labels_->descr(), is_signed);
  std::vector<uint8_t> raw(size_t(count * bytes));
  labels_->read_exact(raw.data(), raw.size());
  for (int64_t i = 0; i < count; ++i) {
    uint64_t bits = 0;
    for (int b = bytes - 1; b >= 0; --b) bits = (bits << 8) | raw[size_t(i * bytes + b)];
    int64_t value = int64_t(bits);
    if (is_signed && bytes < 8 && (bits >> (8 * bytes - 1)) & 1) value -= int64_t(1) << (8 * bytes);
    if (value < 1) FT_FAIL("{}: label {} is not 1-based", labels_->where(), value);
    out[i] = int32_t(value - 1);
  }
}

void NpzSource::read(int64_t count, const ImageShape& target, SourceBlock& block) {
  prepare_block(block, count, target);
  native_.resize(size_t(count * shape_.bytes()));
  int64_t side = shape_.height, plane = side * side;
  for (int64_t done = 0; done < count;) {
    while (left_in_current_ == 0) open_next_file();
    int64_t take = std::min(count - done, left_in_current_);
    rows_.resize(size_t(take * shape_.bytes()));
    data_->read_exact(rows_.data(), rows_.size());
    read_labels(take, block.labels.data() + done);
    // Each row is CHW; shards are HWC.
    for (int64_t i = 0; i < take; ++i) {
      const uint8_t* row = rows_.data() + i * shape_.bytes();
      uint8_t* out = native_.data() + (done + i) * shape_.bytes();
      for (int64_t c = 0; c < 3; ++c)
        for (int64_t p = 0; p < plane; ++p) out[p * 3 + c] = row[c * plane + p];
    }
    done += take;
    left_in_current_ -= take;
  }
  fit_native_block(native_.data(), count, shape_, target, block);
}

void NpzSource::skip(int64_t count) {
  bool is_signed = false;
  while (count > 0) {
    while (left_in_current_ == 0) open_next_file();
    int64_t take = std::min(count, left_in_current_);
    discard_bytes(*data_, take * shape_.bytes());
    discard_bytes(*labels_, take * label_bytes(labels_->descr(), is_signed));
    left_in_current_ -= take;
    count -= take;
  }
}

}  // namespace ft::datasets
