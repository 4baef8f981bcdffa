// `flowtrain data convert|verify|info`: sharded HDF5 image sets from image folders,
// IDX, CIFAR-10 or npz (alone or split across the ranks of mpirun/srun);
// verification against the manifest; a summary.
#include <fmt/core.h>

#include <chrono>
#include <optional>

#include "datasets/convert.h"
#include "datasets/verify.h"
#include "framework/dist/agreement.h"
#include "framework/dist/communicator.h"
#include "launch/commands.h"
#include "launch/slurm_environment.h"
#include "launch/job_failure.h"
#include "launch/progress_line.h"

namespace ft::launch {

namespace {

struct ConvertArguments {
  std::string from;
  std::vector<std::string> sources;
  std::string out;
  int64_t shards = 0, images_per_shard = 0, resolution = 0, channels = 0;
  std::string on_bad_image = "fail";
  double progress_seconds = -1.0;
};

// Under mpirun or srun the ranks split the shards (rank r writes a contiguous range)
// and rank 0 writes the manifest once every shard is done. A shard's bytes depend
// only on its own images, so the set is the same as a one-process conversion's.
void run_convert(const ConvertArguments& args) {
  auto comm = start_ranks();
  run_on_every_rank(*comm, [&] {
    datasets::ConvertOptions options;
    options.out = args.out;
    options.shards = args.shards;
    options.images_per_shard = args.images_per_shard;
    options.resolution = args.resolution;
    options.channels = args.channels;
    std::vector<std::filesystem::path> paths(args.sources.begin(), args.sources.end());
    auto start = std::chrono::steady_clock::now();
    std::unique_ptr<datasets::ImageSource> source;
    datasets::ConversionPlan plan;
    dist::run_agreed(*comm, [&] {
      options.on_bad_image = datasets::bad_image_policy_from_name(args.on_bad_image);
      source = datasets::open_image_source(args.from, paths);
      plan = datasets::plan_conversion(*source, options);
      if (comm->rank() == 0) datasets::prepare_output(options.out);
    });
    // Rank r writes shards [ceil(S r / R), ceil(S (r + 1) / R)): rank 0 has one of the
    // largest shares (the progress line's), and every rank has one when S >= R.
    auto first_shard = [&](int64_t r) { return (plan.shards * r + comm->size() - 1) / comm->size(); };
    int64_t begin = first_shard(comm->rank()), end = first_shard(comm->rank() + 1);
    // Rank 0 shows the progress of its share, scaled to the whole conversion: the
    // shares are even, and a collective per update would tie the ranks together.
    int64_t share = plan.first_image(end) - plan.first_image(begin);
    std::optional<ProgressLine> progress;
    if (comm->rank() == 0 && share > 0) {
      progress.emplace(stderr, "converting", ProgressOptions{.interval_seconds = args.progress_seconds});
      options.report_progress = [&](int64_t read) { progress->update(read * plan.images / share, plan.images); };
    }
    source->skip(plan.first_image(begin));
    datasets::ConvertedShards mine = datasets::convert_shards(*source, plan, options, begin, end);
    progress.reset();
    std::vector<std::string> gathered = comm->all_gather_string(mine.to_json().dump());
    datasets::Manifest manifest;
    dist::run_agreed(*comm, [&] {
      if (comm->rank() != 0) return;
      std::vector<datasets::ConvertedShards> parts;
      for (const std::string& part : gathered) parts.push_back(datasets::ConvertedShards::from_json(nlohmann::json::parse(part)));
      manifest = datasets::finish_conversion(*source, plan, parts, options.out);
    });
    if (comm->rank() != 0) return;
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    fmt::print("converted {} images ({}x{}x{}) into {} shards in {} ({:.1f} s, {:.0f} images/s, {} ranks); {} skipped\n",
               manifest.count, manifest.height, manifest.width, manifest.channels, manifest.shards.size(), args.out,
               seconds, double(manifest.count + manifest.skipped_images) / seconds, comm->size(),
               manifest.skipped_images);
  });
}

}  // namespace

void register_data_commands(CLI::App& app) {
  CLI::App* data = app.add_subcommand("data", "convert, verify and describe sharded HDF5 image sets");
  data->require_subcommand(1);

  auto args = std::make_shared<ConvertArguments>();
  CLI::App* convert = data->add_subcommand("convert", "convert images into a sharded HDF5 image set");
  convert->add_option("--from", args->from, "source format")
      ->required()
      ->check(CLI::IsMember({"imagefolder", "idx", "cifar10", "npz"}));
  convert->add_option("sources", args->sources, "source folder or files")->required();
  convert->add_option("--out", args->out, "output dataset folder")->required();
  auto* shards = convert->add_option("--shards", args->shards, "number of shards");
  convert->add_option("--images-per-shard", args->images_per_shard, "images per shard")->excludes(shards);
  convert->add_option("--resolution", args->resolution, "square side after center crop and area resize");
  convert->add_option("--channels", args->channels, "1 (gray), 3 (RGB) or 4 (RGBA)");
  convert->add_option("--on-bad-image", args->on_bad_image, "an image that does not decode: skip (counted) or fail")
      ->check(CLI::IsMember({"skip", "fail"}));
  convert->add_option("--progress-seconds", args->progress_seconds,
                      "seconds between progress lines on stderr (default: 1 on a terminal, 30 otherwise; 0: none)");
  convert->callback([args] { run_convert(*args); });

  auto verify_dir = std::make_shared<std::string>();
  CLI::App* verify = data->add_subcommand("verify", "check every shard against the manifest");
  verify->add_option("dir", *verify_dir, "dataset folder")->required();
  verify->callback([verify_dir] {
    datasets::Manifest manifest;
    {
      ProgressLine progress(stderr, "verifying", {.file_cadence = FileCadence::every_tenth});
      auto report = [&](int64_t done, int64_t total) { progress.update(done, total); };
      manifest = datasets::verify_dataset(*verify_dir, report);
    }  // the progress line ends before the verdict
    fmt::print("ok: {} shards, {} images match {}\n", manifest.shards.size(), manifest.count, datasets::kManifestFile);
  });

  auto info_dir = std::make_shared<std::string>();
  CLI::App* info = data->add_subcommand("info", "print a dataset's summary");
  info->add_option("dir", *info_dir, "dataset folder")->required();
  info->callback([info_dir] {
    fmt::print("{}", datasets::describe_dataset(*info_dir, datasets::read_manifest(*info_dir)));
  });
}

}  // namespace ft::launch
