#include "datasets/convert.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "framework/core/check.h"

namespace ft::datasets {

BadImagePolicy bad_image_policy_from_name(const std::string& name) {
  if (name == "fail") return BadImagePolicy::fail;
  if (name == "skip") return BadImagePolicy::skip;
  FT_FAIL("--on-bad-image {}: expected skip or fail", name);
}

namespace {

ImageShape target_shape(const ImageSource& source, const ConvertOptions& options) {
  std::optional<ImageShape> native = source.native_shape();
  if (!native && options.resolution <= 0) FT_FAIL("--resolution is required for an image folder");
  if (options.resolution < 0) FT_FAIL("--resolution {} is negative", options.resolution);
  int64_t channels = options.channels > 0 ? options.channels : (native ? native->channels : 3);
  if (channels != 1 && channels != 3 && channels != 4) FT_FAIL("--channels {} is not 1, 3 or 4", channels);
  if (options.resolution > 0) return {options.resolution, options.resolution, channels};
  if (native->height != native->width && channels != native->channels)
    FT_FAIL("non-square source images need --resolution");
  return {native->height, native->width, channels};
}

}  // namespace

int64_t shard_count(int64_t samples, int64_t sample_bytes, const ConvertOptions& options) {
  if (options.shards > 0 && options.images_per_shard > 0) FT_FAIL("give --shards or --images-per-shard, not both");
  if (options.shards < 0 || options.images_per_shard < 0) FT_FAIL("--shards and --images-per-shard must be positive");
  if (options.shards > 0) {
    if (options.shards > samples) FT_FAIL("--shards {} is more than the {} samples", options.shards, samples);
    return options.shards;
  }
  int64_t per_shard = options.images_per_shard > 0 ? options.images_per_shard
                                                   : std::max<int64_t>(1, (int64_t(256) << 20) / sample_bytes);
  return (samples + per_shard - 1) / per_shard;
}

ConversionPlan plan_conversion(const ImageSource& source, const ConvertOptions& options) {
  ConversionPlan plan;
  plan.shape = target_shape(source, options);
  plan.images = source.size();
  if (plan.images == 0) FT_FAIL("the source holds no images");
  plan.shards = shard_count(plan.images, plan.shape.bytes(), options);
  if (options.block_images < 1) FT_FAIL("conversion block of {} images is not positive", options.block_images);
  return plan;
}

void prepare_output(const std::filesystem::path& out) {
  if (out.empty()) FT_FAIL("--out is required");
  if (std::filesystem::exists(out / kManifestFile))
    FT_FAIL("{}: already holds a dataset (manifest.json); choose another --out", out.string());
  std::error_code error;
  std::filesystem::create_directories(out, error);
  if (error) FT_FAIL("{}: cannot create: {}", out.string(), error.message());
}

nlohmann::json ConvertedShards::to_json() const {
  nlohmann::json list = nlohmann::json::array();
  for (const ShardRecord& r : records)
    list.push_back({{"file", r.file}, {"count", r.count}, {"bytes", r.bytes}, {"checksum", r.checksum}});
  return {{"records", list}, {"skipped_images", skipped_images}, {"max_label", max_label}};
}

ConvertedShards ConvertedShards::from_json(const nlohmann::json& json) {
  ConvertedShards part;
  for (const nlohmann::json& r : json.at("records"))
    part.records.push_back({r.at("file").get<std::string>(), r.at("count").get<int64_t>(), r.at("bytes").get<int64_t>(),
                            r.at("checksum").get<std::string>()});
  part.skipped_images = json.at("skipped_images").get<int64_t>();
  part.max_label = json.at("max_label").get<int32_t>();
  return part;
}

ConvertedShards convert_shards(ImageSource& source, const ConversionPlan& plan, const ConvertOptions& options,
                               int64_t begin, int64_t end) {
  FT_CHECK(0 <= begin && begin <= end && end <= plan.shards, "shard range [{}, {}) outside the {} shards", begin, end,
           plan.shards);
  auto report = options.report_skipped ? options.report_skipped
                                       : [](const std::string& line) { fmt::print(stderr, "skipped: {}\n", line); };
  const ImageShape& shape = plan.shape;
  ConvertedShards part;
  SourceBlock block;
  int64_t read = 0;
  for (int64_t shard = begin; shard < end; ++shard) {
    ShardWriter writer(options.out, shard, plan.shards, shape);
    int64_t last = plan.first_image(shard + 1);
    for (int64_t first = plan.first_image(shard); first < last; first += options.block_images) {
      int64_t count = std::min(options.block_images, last - first);
      source.read(count, shape, block);
      // Compact the images that decoded, then append them.
      int64_t kept = 0;
      for (int64_t i = 0; i < count; ++i) {
        if (!block.errors[size_t(i)].empty()) {
          if (options.on_bad_image == BadImagePolicy::fail)
            FT_FAIL("{} (pass --on-bad-image skip to skip such images)", block.errors[size_t(i)]);
          report(block.errors[size_t(i)]);
          ++part.skipped_images;
          continue;
        }
        int64_t to = kept++;
        if (to != i) {
          std::memcpy(block.pixels.data() + to * shape.bytes(), block.pixels.data() + i * shape.bytes(),
                      size_t(shape.bytes()));
          block.labels[size_t(to)] = block.labels[size_t(i)];
        }
        part.max_label = std::max(part.max_label, block.labels[size_t(to)]);
      }
      if (kept > 0) writer.append(block.pixels.data(), block.labels.data(), kept);
      read += count;
      if (options.report_progress) options.report_progress(read);
    }
    part.records.push_back(writer.finish());
  }
  return part;
}

Manifest merge_converted_shards(const ConversionPlan& plan, const std::vector<ConvertedShards>& parts,
                                const std::vector<std::string>& class_names) {
  Manifest manifest;
  int32_t max_label = -1;
  for (const ConvertedShards& part : parts) {
    manifest.shards.insert(manifest.shards.end(), part.records.begin(), part.records.end());
    manifest.skipped_images += part.skipped_images;
    max_label = std::max(max_label, part.max_label);
  }
  FT_CHECK(int64_t(manifest.shards.size()) == plan.shards, "the parts hold {} shards, the plan {}",
           manifest.shards.size(), plan.shards);
  for (const ShardRecord& shard : manifest.shards) manifest.count += shard.count;
  manifest.class_names = class_names;
  manifest.num_classes = std::max<int64_t>(int64_t(manifest.class_names.size()), max_label + 1);
  return manifest;
}

Manifest finish_conversion(const ImageSource& source, const ConversionPlan& plan,
                           const std::vector<ConvertedShards>& parts, const std::filesystem::path& out) {
  Manifest manifest = merge_converted_shards(plan, parts, source.class_names());
  manifest.height = plan.shape.height;
  manifest.width = plan.shape.width;
  manifest.channels = plan.shape.channels;
  if (manifest.count == 0) FT_FAIL("no image of the source decoded ({} skipped)", manifest.skipped_images);
  manifest.source = source.description();
  write_manifest(out, manifest);
  return manifest;
}

Manifest convert_images(ImageSource& source, const ConvertOptions& options) {
  ConversionPlan plan = plan_conversion(source, options);
  prepare_output(options.out);
  std::vector<ConvertedShards> parts{convert_shards(source, plan, options, 0, plan.shards)};
  return finish_conversion(source, plan, parts, options.out);
}

}  // namespace ft::datasets
