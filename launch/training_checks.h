// The checks `train` makes of a config before it trains: the device, the data
// folders against the model, the global batch against the world size. `submit`
// makes the same ones, so a job that would fail at start-up is never queued.
#pragma once
#include "launch/config.h"
#include "layers/flow_model.h"

namespace ft::launch {

// Throws ft::Error naming the bad key. Without data (`bench`'s synthetic images)
// the data folders are not looked at.
// A cuda train.device in a build without CUDA is refused here; whether a GPU is
// visible is not (`submit` runs on login nodes), that is resolve_training_device's.
void check_training_setup(const Config& config, const layers::FlowModel& model, int world_size, bool with_data);

// The device this rank trains on: train.device as written, and for "cuda" the GPU
// local_rank % (visible GPUs), so one rank per GPU works with every GPU visible to
// every rank and with one GPU per rank (SLURM's --gpus-per-task=1). Throws naming
// train.device when no GPU is visible or the index is beyond the visible ones.
// key: the setting's name in messages (the model-reading commands' --device).
Device resolve_training_device(const std::string& setting, int local_rank, const std::string& key = "train.device");

}  // namespace ft::launch
