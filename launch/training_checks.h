// The checks `train` makes of a config before it trains: the device, the data
// folders against the model, the global batch against the world size. `submit`
// makes the same ones, so a job that would fail at start-up is never queued.
#pragma once
#include "launch/config.h"
#include "layers/flow_model.h"

namespace ft::launch {

// Throws ft::Error naming the bad key. Without data (`bench`'s synthetic images)
// the data folders are not looked at.
void check_training_setup(const Config& config, const layers::FlowModel& model, int world_size, bool with_data);

}  // namespace ft::launch
