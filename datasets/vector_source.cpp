#include "datasets/vector_source.h"

#include "datasets/csv_vector_source.h"
#include "datasets/npy_vector_source.h"
#include "framework/core/check.h"

namespace ft::datasets {

std::unique_ptr<VectorSource> open_vector_source(const std::string& kind, const std::vector<std::filesystem::path>& paths,
                                                 std::optional<int64_t> label_column) {
  if (kind == "csv") return std::make_unique<CsvVectorSource>(paths, label_column);
  if (kind == "npy") {
    if (label_column) FT_FAIL("--label-column applies to csv files, not npy (an .npy file holds only features)");
    return std::make_unique<NpyVectorSource>(paths);
  }
  FT_FAIL("vector source '{}' is not npy or csv", kind);
}

void prepare_vector_block(VectorBlock& block, int64_t count, int64_t features) {
  block.features.assign(size_t(count * features), 0.0f);
  block.labels.assign(size_t(count), -1);
}

}  // namespace ft::datasets
