#include "launch/training_checks.h"

#include "framework/core/check.h"
#include "launch/training_data.h"

namespace ft::launch {

void check_training_setup(const Config& config, const layers::FlowModel& model, int world_size, bool with_data) {
  if (parse_device(config.train.device).kind != DeviceKind::cpu)
    FT_FAIL("train.device = \"{}\": this build trains on the CPU; GPU training is not wired into the trainer yet",
            config.train.device);
  if (with_data) reader_options(config, model, Split::train, 0, world_size);
  int64_t global_batch = config.train.global_batch;
  if (global_batch < 1 || global_batch % world_size != 0)
    FT_FAIL("train.global_batch = {} does not divide by the {} ranks", global_batch, world_size);
  if (with_data && !config.data.test.empty())
    check_dataset_matches_model("data.test", config.data.test, model);
}

}  // namespace ft::launch
