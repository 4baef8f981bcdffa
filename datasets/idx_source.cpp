#include "datasets/idx_source.h"

#include "framework/core/check.h"

namespace ft::datasets {

namespace {

// The IDX header: 0 0 type ndim, then ndim big-endian uint32 sizes.
std::vector<int64_t> read_idx_header(GzipStream& stream) {
  uint8_t magic[4];
  stream.read_exact(magic, 4);
  if (magic[0] != 0 || magic[1] != 0 || magic[3] < 1 || magic[3] > 4)
    FT_FAIL("{}: not an IDX file (bad magic)", stream.path());
  if (magic[2] != 0x08) FT_FAIL("{}: IDX element type 0x{:02x} is not unsigned byte", stream.path(), magic[2]);
  std::vector<int64_t> dims(magic[3]);
  for (int64_t& dim : dims) {
    uint8_t b[4];
    stream.read_exact(b, 4);
    dim = (int64_t(b[0]) << 24) | (int64_t(b[1]) << 16) | (int64_t(b[2]) << 8) | int64_t(b[3]);
  }
  return dims;
}

}  // namespace

IdxSource::IdxSource(const std::vector<std::filesystem::path>& paths) {
  if (paths.size() > 2) FT_FAIL("--from idx takes an images file and a labels file, got {} paths", paths.size());
  int64_t label_count = -1;
  for (const std::filesystem::path& path : paths) {
    auto stream = std::make_unique<GzipStream>(path);
    std::vector<int64_t> dims = read_idx_header(*stream);
    if (dims.size() == 3) {
      if (images_) FT_FAIL("{}: a second IDX images file", path.string());
      count_ = dims[0];
      shape_ = {dims[1], dims[2], 1};
      images_ = std::move(stream);
      description_["images"] = path.string();
    } else if (dims.size() == 1) {
      if (labels_) FT_FAIL("{}: a second IDX labels file", path.string());
      label_count = dims[0];
      labels_ = std::move(stream);
      description_["labels"] = path.string();
    } else {
      FT_FAIL("{}: IDX with {} dimensions is neither images (3) nor labels (1)", path.string(), dims.size());
    }
  }
  if (!images_) FT_FAIL("--from idx: no images file among the paths (an IDX file with 3 dimensions)");
  if (labels_ && label_count != count_)
    FT_FAIL("{}: {} labels for {} images in {}", labels_->path(), label_count, count_, images_->path());
  description_["kind"] = "idx";
}

void IdxSource::read(int64_t count, const ImageShape& target, SourceBlock& block) {
  prepare_block(block, count, target);
  native_.resize(size_t(count * shape_.bytes()));
  images_->read_exact(native_.data(), native_.size());
  if (labels_) {
    std::vector<uint8_t> labels(static_cast<size_t>(count));
    labels_->read_exact(labels.data(), labels.size());
    for (size_t i = 0; i < labels.size(); ++i) block.labels[i] = labels[i];
  }
  fit_native_block(native_.data(), count, shape_, target, block);
}

void IdxSource::skip(int64_t count) {
  discard_bytes(*images_, count * shape_.bytes());
  if (labels_) discard_bytes(*labels_, count);
}

}  // namespace ft::datasets
