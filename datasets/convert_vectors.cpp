#include "datasets/convert_vectors.h"

#include <algorithm>

#include "framework/core/check.h"

namespace ft::datasets {

namespace {

void check_no_image_options(const ConvertOptions& options) {
  if (options.resolution != 0) FT_FAIL("--resolution {} applies to images, not to a vector set", options.resolution);
  if (options.channels != 0) FT_FAIL("--channels {} applies to images, not to a vector set", options.channels);
  if (options.on_bad_image != BadImagePolicy::fail)
    FT_FAIL("--on-bad-image skip applies to images; a bad value in a vector source always fails");
}

}  // namespace

ConversionPlan plan_conversion(const VectorSource& source, const ConvertOptions& options) {
  check_no_image_options(options);
  ConversionPlan plan;
  plan.features = source.features();
  FT_CHECK(plan.features > 0, "vector source with {} features", plan.features);
  plan.images = source.size();
  if (plan.images == 0) FT_FAIL("the source holds no vectors");
  plan.shards = shard_count(plan.images, VectorShape{plan.features}.bytes(), options);
  if (options.block_images < 1) FT_FAIL("conversion block of {} vectors is not positive", options.block_images);
  return plan;
}

ConvertedShards convert_shards(VectorSource& source, const ConversionPlan& plan, const ConvertOptions& options,
                               int64_t begin, int64_t end) {
  FT_CHECK(0 <= begin && begin <= end && end <= plan.shards, "shard range [{}, {}) outside the {} shards", begin, end,
           plan.shards);
  ConvertedShards part;
  VectorBlock block;
  int64_t read = 0;
  for (int64_t shard = begin; shard < end; ++shard) {
    ShardWriter writer(options.out, shard, plan.shards, VectorShape{plan.features});
    int64_t last = plan.first_image(shard + 1);
    for (int64_t first = plan.first_image(shard); first < last; first += options.block_images) {
      int64_t count = std::min(options.block_images, last - first);
      source.read(count, block);
      for (int32_t label : block.labels) part.max_label = std::max(part.max_label, label);
      writer.append(block.features.data(), block.labels.data(), count);
      read += count;
      if (options.report_progress) options.report_progress(read);
    }
    part.records.push_back(writer.finish());
  }
  return part;
}

Manifest finish_conversion(const VectorSource& source, const ConversionPlan& plan,
                           const std::vector<ConvertedShards>& parts, const std::filesystem::path& out) {
  Manifest manifest = merge_converted_shards(plan, parts, source.class_names());
  manifest.kind = SetKind::vectors;
  manifest.features = plan.features;
  manifest.source = source.description();
  write_manifest(out, manifest);
  return manifest;
}

Manifest convert_vectors(VectorSource& source, const ConvertOptions& options) {
  ConversionPlan plan = plan_conversion(source, options);
  prepare_output(options.out);
  std::vector<ConvertedShards> parts{convert_shards(source, plan, options, 0, plan.shards)};
  return finish_conversion(source, plan, parts, options.out);
}

}  // namespace ft::datasets
