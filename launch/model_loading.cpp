#include "launch/model_loading.h"

#include <CLI/CLI.hpp>

#include "framework/checkpoint/checkpoint.h"
#include "framework/core/check.h"
#include "framework/dist/agreement.h"
#include "launch/model_factory.h"
#include "launch/training_checks.h"

namespace ft::launch {

namespace {

std::filesystem::path resolve_checkpoint(const CheckpointChoice& choice, dist::Communicator& comm) {
  const std::string& checkpoint = choice.checkpoint;
  const std::string& run_dir = choice.run_dir;
  // Each rank's own view of the arguments, agreed before rank 0 decides for all.
  dist::run_agreed(comm, [&] {
    if (!checkpoint.empty() && !run_dir.empty()) FT_FAIL("give either --checkpoint or --run-dir, not both");
    if (checkpoint.empty() && run_dir.empty()) FT_FAIL("give --checkpoint PATH or --run-dir DIR");
    if (!run_dir.empty() && !std::filesystem::is_directory(run_dir)) FT_FAIL("--run-dir {}: no such folder", run_dir);
  });
  if (!checkpoint.empty()) {
    std::string problem = verify_checkpoint_on_rank0(checkpoint, comm);
    if (!problem.empty()) FT_FAIL("--checkpoint {}: {}", checkpoint, problem);
    return checkpoint;
  }
  auto found = checkpoint::find_latest_valid(std::filesystem::path(run_dir) / "checkpoints", comm,
                                             [&](const std::string& warning) {
                                               if (comm.rank() == 0) fmt::print(stderr, "warning: {}\n", warning);
                                             });
  if (!found) FT_FAIL("--run-dir {}: no committed checkpoint in {}/checkpoints", run_dir, run_dir);
  return *found;
}

}  // namespace

std::string verify_checkpoint_on_rank0(const std::filesystem::path& dir, dist::Communicator& comm) {
  std::string problem;
  if (comm.rank() == 0) {
    try {
      problem = checkpoint::verify(dir);
    } catch (const std::exception& e) {
      problem = e.what();
    }
  }
  return comm.broadcast_string(problem, 0);
}

void add_checkpoint_options(CLI::App& command, CheckpointChoice& choice, bool with_test_data) {
  command.add_option("--checkpoint", choice.checkpoint, "a checkpoint folder (checkpoints/step_XXXXXXXX)");
  command.add_option("--run-dir", choice.run_dir, "a run directory: its newest valid checkpoint");
  if (with_test_data) command.add_option("--data", choice.test_data, "test set folder (default: data.test of the run)");
  command.add_option("--device", choice.device, "where the model runs: cpu (default), cuda (the local rank's GPU), "
                                                "cuda:N");
}

nlohmann::json describe_source(const LoadedModel& loaded) {
  return {{"step", loaded.step},
          {"weights", loaded.ema ? "ema" : "parameters"},
          {"checkpoint", loaded.checkpoint.string()}};
}

void restore_buffers(nn::Module& model, const std::map<std::string, Tensor>& small_tensors,
                     const std::filesystem::path& checkpoint) {
  for (auto& [name, tensor] : model.named_buffers()) {
    auto it = small_tensors.find("buffers/" + name);
    FT_CHECK(it != small_tensors.end(), "checkpoint {} lacks model buffer '{}'", checkpoint.string(), name);
    Tensor slot = tensor;
    slot.copy_(it->second.to(slot.device()));
  }
}

LoadedModel load_model(const CheckpointChoice& choice, std::shared_ptr<dist::Communicator> comm,
                       Weights weights) {
  std::vector<std::string> overrides;
  if (!choice.test_data.empty()) overrides.push_back("data.test=" + choice.test_data);
  LoadedModel loaded{Config::parse("", "<none>"), nullptr, nullptr, {}, 0, false};
  loaded.checkpoint = resolve_checkpoint(choice, *comm);
  checkpoint::CheckpointReader reader(loaded.checkpoint);
  const nlohmann::json& state = reader.global_state();
  FT_CHECK(state.contains("config_toml"), "checkpoint {} does not record its config", loaded.checkpoint.string());
  loaded.config = Config::parse(state.at("config_toml").get<std::string>(),
                                (loaded.checkpoint / "manifest.json").string(), overrides);
  loaded.step = reader.step();
  Generator init(0, 0);
  loaded.model = build_model(loaded.config, init);
  loaded.model->to(resolve_training_device(choice.device, comm->local_rank(), "--device"));
  loaded.layout = std::make_unique<dist::GradientReducer>(loaded.model->parameter_slots(), comm, dist::ReducerOptions{});
  int64_t n = loaded.layout->parameter_count();
  const bool has_ema = reader.has("ema") && state.value("ema_initialized", false);
  if (weights == Weights::ema && !has_ema)
    FT_FAIL("checkpoint {} has no EMA weights (optim.ema = 0, or no step yet)", loaded.checkpoint.string());
  loaded.ema = weights == Weights::ema || (weights == Weights::ema_when_kept && has_ema);
  std::string vector = loaded.ema ? "ema" : "parameters";
  FT_CHECK(reader.length(vector) == n, "checkpoint {} holds {} weights, the model has {}", loaded.checkpoint.string(),
           reader.length(vector), n);
  Tensor weights_range = loaded.layout->parameter_arena().slice(0, 0, n);
  reader.read_range(vector, 0, weights_range);
  restore_buffers(*loaded.model, reader.small_tensors(), loaded.checkpoint);
  loaded.model->set_training(false);
  return loaded;
}

void require_image_model(const LoadedModel& loaded, const char* command) {
  if (!loaded.model->is_image_model())
    FT_FAIL("flowtrain {} shows images, but {} is a flow over vectors of {} features", command,
            loaded.checkpoint.string(), loaded.model->dims());
}

}  // namespace ft::launch
