#include "launch/training_data.h"

#include <cmath>
#include <filesystem>

#include "datasets/manifest.h"
#include "datasets/shard_check.h"
#include "framework/dist/agreement.h"
#include "framework/core/check.h"
#include "framework/ops/ops.h"

namespace ft::launch {

datasets::DequantizeOptions dequantize_options(const Config& config, const layers::FlowModel& model) {
  datasets::DequantizeOptions options;
  options.noise = datasets::noise_from_name(config.data.noise);
  if (model.learns_dequantization()) {
    if (config.data.noise != "uniform")
      FT_FAIL("{}: data.noise = \"{}\" but the model learns its dequantization (a Flow++ dequantizer); leave data.noise "
              "uniform", config.origin(), config.data.noise);
    options.noise = datasets::Noise::learned;
  }
  options.gaussian_std = config.data.noise_std;
  layers::DataScaling scaling = model.scaling();
  options.range = scaling.shift == 0.0    ? datasets::ValueRange::zero_one
                  : scaling.shift == -0.5 ? datasets::ValueRange::centered
                                          : datasets::ValueRange::symmetric;
  options.bits = config.model.kind == "glow" ? int(config.model.n_bits) : 8;
  return options;
}

void check_dataset_matches_model(const std::string& key, const std::string& dir, const layers::FlowModel& model) {
  if (dir.empty()) FT_FAIL("{} is not set: give the folder of a sharded image set (flowtrain data convert)", key);
  if (!std::filesystem::is_directory(dir)) FT_FAIL("{} = '{}': no such folder", key, dir);
  datasets::Manifest manifest = datasets::read_manifest(dir);
  if (!model.is_image_model()) {
    if (!manifest.is_vectors())
      FT_FAIL("{} = '{}' holds {}x{}x{} images but the model is a flow over vectors of {} features (model.features)",
              key, dir, manifest.height, manifest.width, manifest.channels, model.dims());
    if (manifest.features != model.dims())
      FT_FAIL("{} = '{}' holds vectors of {} features but the model expects {} (model.features)", key, dir,
              manifest.features, model.dims());
    return;
  }
  if (manifest.is_vectors())
    FT_FAIL("{} = '{}' is a vector set ({} features) but the model is an image model; give an image set", key, dir,
            manifest.features);
  Shape shape = model.data_shape();
  if (manifest.channels != shape[0] || manifest.height != shape[1] || manifest.width != shape[2])
    FT_FAIL("{} = '{}' holds {}x{}x{} images (HxWxC) but the model expects {}x{}x{} (model.image_size, model.channels)",
            key, dir, manifest.height, manifest.width, manifest.channels, shape[1], shape[2], shape[0]);
}

datasets::ReaderOptions reader_options(const Config& config, const layers::FlowModel& model, Split split, int rank,
                                       int world_size) {
  std::string key = split == Split::train ? "data.train" : "data.test";
  std::string dir = split == Split::train ? config.data.train : config.data.test;
  check_dataset_matches_model(key, dir, model);
  int64_t global_batch = config.train.global_batch;
  if (global_batch < 1) FT_FAIL("train.global_batch must be >= 1, got {}", global_batch);
  if (global_batch % world_size != 0)
    FT_FAIL("train.global_batch = {} does not divide by the {} ranks; use a multiple of {}", global_batch, world_size,
            world_size);
  datasets::ReaderOptions options;
  options.dir = dir;
  options.global_batch = global_batch;
  options.rank = rank;
  options.world_size = world_size;
  options.seed = uint64_t(config.train.seed);
  options.shuffle = split == Split::train;
  options.drop_last = split == Split::train;
  // Vector sets are read as stored: no flips, no dequantization noise.
  if (model.is_image_model()) {
    options.flip = split == Split::train && config.data.flip;
    options.dequantize = dequantize_options(config, model);
  }
  options.threads = int(std::max<int64_t>(1, config.data.loader_threads));
  return options;
}

void verify_dataset_across_ranks(dist::Communicator& comm, const std::filesystem::path& dir) {
  dist::run_agreed(comm, [&] {
    datasets::Manifest manifest = datasets::read_manifest(dir);
    for (auto shard = size_t(comm.rank()); shard < manifest.shards.size(); shard += size_t(comm.size()))
      datasets::verify_shard_checksum(dir, manifest, shard);
  });
}

Generator forward_generator(const Config& config, Split split, const datasets::Batch& batch, int64_t first) {
  // Philox stream ids, one per epoch, apart from the data streams; training's is the
  // value TARFLOW's label dropout always had, so its runs repeat.
  const uint64_t stream = (split == Split::train ? uint64_t(0x1AB0D0) : uint64_t(0xE7A1D0)) << 32;
  return Generator(uint64_t(config.train.seed), stream + uint64_t(batch.position.epoch), uint64_t(batch.rank_begin + first));
}

Tensor synthetic_examples(const layers::FlowModel& model, int64_t count, Generator& gen) {
  Shape shape{count};
  for (int64_t d : model.data_shape()) shape.push_back(d);
  if (!model.is_image_model()) return normal(shape, 0.0, 1.0, gen);
  layers::DataScaling scaling = model.scaling();
  return uniform(shape, scaling.shift, scaling.brightest, gen);
}

}  // namespace ft::launch
