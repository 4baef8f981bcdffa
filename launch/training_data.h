// The [data] section turned into dataset readers for a model: the value range,
// dequantization and bit depth the model expects, this rank's slice of each
// global batch, and checks that the images fit the model.
#pragma once
#include <memory>

#include "datasets/reader.h"
#include "framework/dist/communicator.h"
#include "framework/random/generator.h"
#include "launch/config.h"
#include "layers/flow_model.h"

namespace ft::launch {

enum class Split { train, test };

// Reader options for a split; throws naming data.train / data.test when the
// folder is missing or its images do not match the model's shape.
datasets::ReaderOptions reader_options(const Config& config, const layers::FlowModel& model, Split split, int rank,
                                       int world_size);

// The dequantization a model trains on (noise from [data], range from the model).
datasets::DequantizeOptions dequantize_options(const Config& config, const layers::FlowModel& model);

// Checks a dataset folder's images against the model; `key` names the config key.
void check_dataset_matches_model(const std::string& key, const std::string& dir, const layers::FlowModel& model);

// Hashes every shard of a dataset once per job: rank r of R checks shards r, r+R, ...
// against the manifest's checksums, then the ranks agree (a collective); a bad or
// missing shard fails every rank, naming the file. Readers opened afterwards can
// skip their own hashing (ReaderOptions::verify_checksums = false) and keep the
// cheap checks. `flowtrain data verify` still reads every shard itself.
void verify_dataset_across_ranks(dist::Communicator& comm, const std::filesystem::path& dir);

// The random stream of a batch's forward (TARFLOW's label dropout, Flow++'s
// dequantizer; layers/flow_model.h): keyed by the epoch and by the position of this
// rank's first example in the epoch's order, so an example draws alike at any world
// size and after a resume. Training and evaluation draw from different streams.
// first: the offset in the batch of the first example this forward sees (a
// micro-batch's), so micro-batches draw what the whole batch would.
Generator forward_generator(const Config& config, Split split, const datasets::Batch& batch, int64_t first = 0);

// `count` examples without a data set (bench, --synthetic): images uniform over the
// model's pixel range, vectors standard normal.
Tensor synthetic_examples(const layers::FlowModel& model, int64_t count, Generator& gen);

}  // namespace ft::launch
