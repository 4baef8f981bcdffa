#include "launch/training_checks.h"

#include <fmt/core.h>

#include <cstdlib>

#include "framework/core/check.h"
#include "framework/kernels/cuda/cuda_runtime.h"
#include "launch/training_data.h"

namespace ft::launch {

namespace {

// The refusals that need no GPU: a malformed setting, and cuda in a build without CUDA.
Device parse_training_device(const std::string& setting, const std::string& key) {
  const bool index_ok = setting.size() > 5 && setting.find_first_not_of("0123456789", 5) == std::string::npos;
  const bool cpu = setting == "cpu" || setting == "cpu:0" || setting == "cpu:1";
  const bool cuda = setting == "cuda" || (setting.rfind("cuda:", 0) == 0 && index_ok && setting.size() <= 9);
  if (!cpu && !cuda) FT_FAIL("{} = \"{}\": expected cpu, cpu:1, cuda or cuda:N", key, setting);
#if !defined(FLOWTRAIN_HAVE_CUDA)
  if (cuda)
    FT_FAIL("{} = \"{}\": this flowtrain was built without CUDA (the CUDA toolkit was not found, or "
            "-DFLOWTRAIN_CUDA=OFF); rebuild with the toolkit to run on GPUs",
            key, setting);
#endif
  return parse_device(setting);
}

}  // namespace

void check_training_setup(const Config& config, const layers::FlowModel& model, int world_size, bool with_data) {
  parse_training_device(config.train.device, "train.device");
  if (with_data) reader_options(config, model, Split::train, 0, world_size);
  int64_t global_batch = config.train.global_batch;
  if (global_batch < 1 || global_batch % world_size != 0)
    FT_FAIL("train.global_batch = {} does not divide by the {} ranks", global_batch, world_size);
  const int64_t micro = config.train.micro_batch, local = global_batch / world_size;
  if (micro < 0 || (micro > 0 && local % micro != 0))
    FT_FAIL("train.micro_batch = {} does not divide the {} examples each of the {} ranks gets of train.global_batch = "
            "{} (0: the whole share)",
            micro, local, world_size, global_batch);
  if (with_data && !config.data.test.empty())
    check_dataset_matches_model("data.test", config.data.test, model);
}

Device resolve_training_device(const std::string& setting, int local_rank, const std::string& key) {
  const Device device = parse_training_device(setting, key);
  if (device.kind != DeviceKind::cuda) return device;
  const int visible = cuda_device_count();
  if (visible == 0) {
    const char* mask = std::getenv("CUDA_VISIBLE_DEVICES");
    FT_FAIL("{} = \"{}\": no CUDA device is visible to this process (no GPU or driver{}); run on the CPU with "
            "{} = \"cpu\"",
            key, setting, mask ? fmt::format(", CUDA_VISIBLE_DEVICES = \"{}\"", mask) : std::string(), key);
  }
  if (setting == "cuda") return Device::cuda(local_rank % visible);
  FT_CHECK(device.index < visible, "{} = \"{}\": only {} CUDA device{} visible (cuda:0 to cuda:{})", key, setting,
           visible, visible == 1 ? " is" : "s are", visible - 1);
  return device;
}

}  // namespace ft::launch
