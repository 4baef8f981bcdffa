// A trained model back from a checkpoint: its config (stored in the checkpoint),
// the model, and the weights (the EMA weights when the run kept an EMA).
#pragma once
#include <filesystem>
#include <map>
#include <memory>

#include "framework/dist/communicator.h"
#include "framework/dist/gradient_reducer.h"
#include "launch/config.h"
#include "layers/flow_model.h"

namespace CLI {
class App;
}

namespace ft::launch {

// Which trained model a command reads: --checkpoint PATH (a step folder) or
// --run-dir DIR (its newest valid checkpoint). Every command that reads a model
// registers the pair through add_checkpoint_options, so they all spell it alike.
// Commands that read test images also take --data DIR, in place of the run's data.test.
// --device puts the model on cpu (the default), cuda (the local rank's GPU) or cuda:N.
struct CheckpointChoice {
  std::string checkpoint, run_dir;
  std::string test_data;
  std::string device = "cpu";
};
void add_checkpoint_options(CLI::App& command, CheckpointChoice& choice, bool with_test_data = false);

struct LoadedModel {
  Config config;
  std::shared_ptr<layers::FlowModel> model;
  std::unique_ptr<dist::GradientReducer> layout;  // owns the flat parameter arena the model's weights view
  std::filesystem::path checkpoint;
  int64_t step = 0;
  bool ema = false;
};

// Copies a checkpoint's "buffers/<name>" small tensors into the model's buffers
// (ActNorm's initialized flags, the fixed LU permutations); every buffer must be there.
void restore_buffers(nn::Module& model, const std::map<std::string, Tensor>& small_tensors,
                     const std::filesystem::path& checkpoint);

// checkpoint::verify of a step folder read through by rank 0 alone (start-up cost
// does not grow with the ranks), its verdict on every rank: "" when it loads.
// A collective that every rank reaches, whatever rank 0 finds.
std::string verify_checkpoint_on_rank0(const std::filesystem::path& dir, dist::Communicator& comm);

// Which of a checkpoint's weight vectors to load.
enum class Weights {
  ema_when_kept,  // the EMA when the run kept one (evaluation and sampling), else the parameters
  parameters,
  ema,            // an error when the checkpoint has no EMA
};

// Exactly one of the choice's two is given, else an error naming the flags. Collective.
LoadedModel load_model(const CheckpointChoice& choice, std::shared_ptr<dist::Communicator> comm,
                       Weights weights = Weights::ema_when_kept);

// Commands that show pictures of test images fail here, naming the command, for a
// flow over vectors.
void require_image_model(const LoadedModel& loaded, const char* command);

// Where a command's weights came from, for its JSON output: step, weights, checkpoint.
nlohmann::json describe_source(const LoadedModel& loaded);

}  // namespace ft::launch
