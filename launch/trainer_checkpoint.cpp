// The trainer's checkpoint side: what goes into a sharded checkpoint, and how a
// run (at the same or another world size) resumes from one bit for bit.
#include <fmt/core.h>

#include "framework/checkpoint/checkpoint.h"
#include "launch/model_loading.h"
#include "launch/trainer.h"

namespace ft::launch {

namespace {

// This rank's even share [begin, end) of a vector of n elements that every rank holds.
std::pair<int64_t, int64_t> even_share(int64_t n, int rank, int size) {
  return {n * rank / size, n * (rank + 1) / size};
}

// Model keys that change the shapes of the saved state: a resume must match them.
bool shape_key(const std::string& key) { return key != "label_dropout"; }

}  // namespace

std::optional<std::filesystem::path> Trainer::choose_checkpoint(const std::string& resume) {
  if (resume == "never") {
    if (!checkpoint::list_committed(run_dir_.checkpoints()).empty())
      FT_FAIL("--resume never, but run dir '{}' already holds checkpoints; resume (--resume auto) or pick another "
              "--run-dir so nothing saved is overwritten",
              run_dir_.root().string());
    return std::nullopt;
  }
  if (resume != "auto") {
    std::string problem = verify_checkpoint_on_rank0(resume, *comm_);
    if (!problem.empty()) FT_FAIL("--resume {}: {}", resume, problem);
    return std::filesystem::path(resume);
  }
  return checkpoint::find_latest_valid(run_dir_.checkpoints(), *comm_,
                                       [this](const std::string& warning) { run_dir_.log("warning: " + warning); },
                                       checkpoint::OnDamaged::move_aside);
}

std::filesystem::path Trainer::save_checkpoint() {
  checkpoint::SaveRequest request;
  request.checkpoints_dir = run_dir_.checkpoints();
  request.step = progress_.step;
  request.keep.keep_last = config_.checkpoint.keep_last;
  request.keep.keep_every = config_.checkpoint.keep_every;
  request.warn = [this](const std::string& warning) { run_dir_.log("warning: " + warning); };
  int64_t n = reducer_->parameter_count();
  auto [begin, end] = even_share(n, comm_->rank(), comm_->size());
  // Shard files are written from host memory: this rank's slices (views on the CPU,
  // copies from another device), alive until the save returns.
  std::vector<Tensor> staged;
  auto on_host = [&](const Tensor& t, int64_t first, int64_t count) {
    return staged.emplace_back(t.slice(0, first, first + count).to(Device::cpu())).data<float>();
  };
  request.slices.push_back({"parameters", n, begin, end - begin, on_host(reducer_->parameter_arena(), begin, end - begin)});
  if (ema_) request.slices.push_back({"ema", n, begin, end - begin, on_host(ema_->shadow(), begin, end - begin)});
  // Optimizer state: the whole range on every rank, or this rank's ZeRO-1 shard.
  bool zero1 = config_.train.zero1;
  int64_t state_begin = zero1 ? reducer_->shard_begin() : begin;
  int64_t state_end = zero1 ? std::min(n, reducer_->shard_begin() + reducer_->shard_size()) : end;
  int64_t offset = zero1 ? 0 : begin;
  const int64_t state_count = std::max<int64_t>(0, state_end - state_begin);
  for (auto& [name, tensor] : optimizer_->state())
    request.slices.push_back({"optimizer/" + name, n, state_begin, state_count, on_host(*tensor, offset, state_count)});
  for (auto& [name, tensor] : model_->named_buffers()) request.small_tensors["buffers/" + name] = tensor;
  // Every random choice is keyed by (seed, epoch, sample position), so ranks keep no
  // private random state; the world size is recorded for the log.
  request.rank_state = {{"rank", comm_->rank()}, {"world_size", comm_->size()}};
  request.global_state = {{"step", progress_.step},
                          {"optimizer_steps", optimizer_->step_count()},
                          {"data_epoch", progress_.data.epoch},
                          {"data_consumed", progress_.data.consumed},
                          {"skipped_steps", progress_.skipped_steps},
                          {"consecutive_skips", progress_.consecutive_skips},
                          {"ema_initialized", ema_ ? ema_->initialized() : false},
                          {"loss_scale", scaler_ ? scaler_->scale() : 1.0},
                          {"loss_scale_good_steps", scaler_ ? scaler_->good_steps() : 0},
                          {"model", config_.section_json("model")},
                          {"train", config_.section_json("train")},
                          {"optim", config_.section_json("optim")},
                          {"config_toml", config_.to_toml()}};
  auto started = std::chrono::steady_clock::now();
  std::filesystem::path dir = checkpoint::save(request, *comm_);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  run_dir_.log(fmt::format("checkpoint step {} -> {} ({:.2f} s)", progress_.step, dir.string(), seconds));
  last_checkpoint_ = std::chrono::steady_clock::now();
  last_checkpoint_step_ = progress_.step;
  return dir;
}

void Trainer::check_resume_config(const nlohmann::json& saved_model, const nlohmann::json& saved_run) {
  nlohmann::json model = config_.section_json("model");
  for (auto& [key, value] : saved_model.items()) {
    if (!shape_key(key)) continue;
    if (!model.contains(key) || model[key] != value)
      FT_FAIL("cannot resume: the checkpoint was written with model.{} = {} but the config has {}", key, value.dump(),
              model.contains(key) ? model[key].dump() : "no such key");
  }
  // Allowed changes, logged so the run's history stays readable.
  for (const char* section : {"train", "optim"}) {
    nlohmann::json now = config_.section_json(section);
    if (!saved_run.contains(section)) continue;
    for (auto& [key, value] : saved_run[section].items())
      if (now.contains(key) && now[key] != value)
        run_dir_.log(fmt::format("resume: {}.{} changed from {} to {}", section, key, value.dump(), now[key].dump()));
  }
  if (saved_run.contains("train") && saved_run["train"].value("zero1", false) != config_.train.zero1)
    run_dir_.log("resume: train.zero1 changed; the optimizer state is resharded");
}

void Trainer::restore_checkpoint(const std::filesystem::path& dir) {
  checkpoint::CheckpointReader reader(dir);
  const nlohmann::json& state = reader.global_state();
  check_resume_config(state.at("model"), state);
  int64_t n = reducer_->parameter_count();
  FT_CHECK(reader.length("parameters") == n, "checkpoint {} holds {} parameters, the model has {}", dir.string(),
           reader.length("parameters"), n);
  Tensor parameters = reducer_->parameter_arena().slice(0, 0, n);
  reader.read_range("parameters", 0, parameters);
  bool zero1 = config_.train.zero1;
  int64_t begin = zero1 ? reducer_->shard_begin() : 0;
  int64_t end = zero1 ? std::min(n, reducer_->shard_begin() + reducer_->shard_size()) : n;
  for (auto& [name, tensor] : optimizer_->state()) {
    tensor->zero_();  // ZeRO-1 padding past the last parameter stays zero
    if (end <= begin) continue;
    Tensor range = tensor->slice(0, 0, end - begin);
    reader.read_range("optimizer/" + name, begin, range);
  }
  optimizer_->set_step_count(state.at("optimizer_steps").get<int64_t>());
  if (ema_ && reader.has("ema")) {
    reader.read_range("ema", 0, ema_->shadow());
    ema_->set_initialized(state.at("ema_initialized").get<bool>());
  }
  restore_buffers(*model_, reader.small_tensors(), dir);
  if (scaler_) scaler_->set_state(state.at("loss_scale").get<double>(), state.at("loss_scale_good_steps").get<int64_t>());
  progress_.step = state.at("step").get<int64_t>();
  progress_.data = {state.at("data_epoch").get<int64_t>(), state.at("data_consumed").get<int64_t>()};
  progress_.skipped_steps = state.at("skipped_steps").get<int64_t>();
  progress_.consecutive_skips = state.at("consecutive_skips").get<int64_t>();
  last_checkpoint_step_ = progress_.step;
  if (events_) events_->add_session_start(progress_.step);
  if (run_dir_.writer()) {
    metrics_.reset();  // reopened on the rewritten file
    io::drop_records_after(run_dir_.metrics().string(), progress_.step);
    metrics_ = std::make_unique<io::MetricsWriter>(run_dir_.metrics().string(), true);
  }
  run_dir_.log(fmt::format("resumed from {} (step {}, written by {} ranks, now {})", dir.string(), progress_.step,
                           reader.world_size(), comm_->size()));
}

}  // namespace ft::launch
