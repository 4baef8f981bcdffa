// `flowtrain data convert|make-toy|verify|info`: sharded HDF5 image sets from image
// folders, IDX, CIFAR-10 or npz, and vector sets from npy or csv files or the 2-D toy
// generators (alone or split across the ranks of mpirun/srun); verification against
// the manifest; a summary.
#include <fmt/core.h>

#include <chrono>
#include <optional>

#include "datasets/convert.h"
#include "datasets/convert_vectors.h"
#include "datasets/toy_sets.h"
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
  std::optional<int64_t> label_column;  // csv; columns count from 1
  double progress_seconds = -1.0;
};

struct ToyArguments {
  std::string set;
  int64_t n = 0, shards = 0;
  uint64_t seed = 0;
  std::string out;
  double progress_seconds = -1.0;
};

bool is_vector_format(const std::string& from) { return from == "npy" || from == "csv"; }

std::string describe_samples(const datasets::Manifest& manifest) {
  if (manifest.is_vectors()) return fmt::format("{} vectors (D = {})", manifest.count, manifest.features);
  return fmt::format("{} images ({}x{}x{})", manifest.count, manifest.height, manifest.width, manifest.channels);
}

// Under mpirun or srun the ranks split the shards (rank r writes a contiguous range)
// and rank 0 writes the manifest once every shard is done. A shard's bytes depend
// only on its own samples, so the set is the same as a one-process conversion's.
// Source is datasets::ImageSource or datasets::VectorSource (convert.h, convert_vectors.h).
template <class Source>
void run_convert(const ConvertArguments& args, const std::function<std::unique_ptr<Source>()>& open_source) {
  auto comm = start_ranks();
  run_on_every_rank(*comm, [&] {
    datasets::ConvertOptions options;
    options.out = args.out;
    options.shards = args.shards;
    options.images_per_shard = args.images_per_shard;
    options.resolution = args.resolution;
    options.channels = args.channels;
    auto start = std::chrono::steady_clock::now();
    std::unique_ptr<Source> source;
    datasets::ConversionPlan plan;
    dist::run_agreed(*comm, [&] {
      options.on_bad_image = datasets::bad_image_policy_from_name(args.on_bad_image);
      source = open_source();
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
      ProgressOptions shown{.interval_seconds = args.progress_seconds};
      if (plan.features > 0) shown.unit = "vectors";
      progress.emplace(stderr, "converting", shown);
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
    fmt::print("converted {} into {} shards in {} ({:.1f} s, {:.0f} {}/s, {} ranks); {} skipped\n",
               describe_samples(manifest), manifest.shards.size(), args.out, seconds,
               double(manifest.count + manifest.skipped_images) / seconds, manifest.is_vectors() ? "vectors" : "images",
               comm->size(), manifest.skipped_images);
  });
}

void run_convert_from(const ConvertArguments& args) {
  std::vector<std::filesystem::path> paths(args.sources.begin(), args.sources.end());
  if (is_vector_format(args.from)) {
    run_convert<datasets::VectorSource>(args, [&] { return datasets::open_vector_source(args.from, paths, args.label_column); });
    return;
  }
  if (args.label_column) FT_FAIL("--label-column applies to --from csv, not --from {}", args.from);
  run_convert<datasets::ImageSource>(args, [&] { return datasets::open_image_source(args.from, paths); });
}

void run_make_toy(const ToyArguments& toy) {
  ConvertArguments args;
  args.from = "toy";
  args.out = toy.out;
  args.shards = toy.shards;
  args.progress_seconds = toy.progress_seconds;
  run_convert<datasets::VectorSource>(args, [&]() -> std::unique_ptr<datasets::VectorSource> {
    return std::make_unique<datasets::ToySource>(datasets::toy_set_from_name(toy.set), toy.n, toy.seed);
  });
}

}  // namespace

void register_data_commands(CLI::App& app) {
  CLI::App* data = app.add_subcommand("data", "convert, verify and describe sharded HDF5 image and vector sets");
  data->require_subcommand(1);

  auto args = std::make_shared<ConvertArguments>();
  CLI::App* convert = data->add_subcommand("convert", "convert images (or vectors) into a sharded HDF5 image (or vector) set");
  convert->add_option("--from", args->from, "source format: images from imagefolder, idx, cifar10 or npz; vectors from npy or csv")
      ->required()
      ->check(CLI::IsMember({"imagefolder", "idx", "cifar10", "npz", "npy", "csv"}));
  convert->add_option("sources", args->sources, "source folder or files")->required();
  convert->add_option("--out", args->out, "output dataset folder")->required();
  auto* shards = convert->add_option("--shards", args->shards, "number of shards");
  convert->add_option("--images-per-shard", args->images_per_shard, "images (or vectors) per shard")->excludes(shards);
  convert->add_option("--resolution", args->resolution, "square side after center crop and area resize");
  convert->add_option("--channels", args->channels, "1 (gray), 3 (RGB) or 4 (RGBA)");
  convert->add_option("--on-bad-image", args->on_bad_image, "an image that does not decode: skip (counted) or fail")
      ->check(CLI::IsMember({"skip", "fail"}));
  auto label_column = std::make_shared<int64_t>(0);
  CLI::Option* label_option = convert->add_option("--label-column", *label_column,
                                                  "csv: the column of integer labels, counting from 1 (default: unlabelled)");
  convert->add_option("--progress-seconds", args->progress_seconds,
                      "seconds between progress lines on stderr (default: 1 on a terminal, 30 otherwise; 0: none)");
  convert->callback([args, label_column, label_option] {
    if (label_option->count() > 0) args->label_column = *label_column;
    run_convert_from(*args);
  });

  auto toy = std::make_shared<ToyArguments>();
  CLI::App* make_toy = data->add_subcommand("make-toy", "write a 2-D toy vector set (FFJORD's toy densities)");
  make_toy->add_option("set", toy->set, "two-moons, circles, checkerboard, eight-gaussians or pinwheel")
      ->required()
      ->check(CLI::IsMember({"two-moons", "circles", "checkerboard", "eight-gaussians", "pinwheel"}));
  make_toy->add_option("--n", toy->n, "number of points")->required();
  make_toy->add_option("--out", toy->out, "output dataset folder")->required();
  make_toy->add_option("--seed", toy->seed, "the points depend on the seed alone");
  make_toy->add_option("--shards", toy->shards, "number of shards (default: one per 256 MiB)");
  make_toy->add_option("--progress-seconds", toy->progress_seconds,
                       "seconds between progress lines on stderr (default: 1 on a terminal, 30 otherwise; 0: none)");
  make_toy->callback([toy] { run_make_toy(*toy); });

  auto verify_dir = std::make_shared<std::string>();
  CLI::App* verify = data->add_subcommand("verify", "check every shard against the manifest");
  verify->add_option("dir", *verify_dir, "dataset folder")->required();
  verify->callback([verify_dir] {
    datasets::Manifest manifest;
    {
      std::string unit = datasets::read_manifest(*verify_dir).is_vectors() ? "vectors" : "images";
      ProgressLine progress(stderr, "verifying", {.unit = unit, .file_cadence = FileCadence::every_tenth});
      auto report = [&](int64_t done, int64_t total) { progress.update(done, total); };
      manifest = datasets::verify_dataset(*verify_dir, report);
    }  // the progress line ends before the verdict
    fmt::print("ok: {} shards, {} {} match {}\n", manifest.shards.size(), manifest.count,
               manifest.is_vectors() ? "vectors" : "images", datasets::kManifestFile);
  });

  auto info_dir = std::make_shared<std::string>();
  CLI::App* info = data->add_subcommand("info", "print a dataset's summary");
  info->add_option("dir", *info_dir, "dataset folder")->required();
  info->callback([info_dir] {
    fmt::print("{}", datasets::describe_dataset(*info_dir, datasets::read_manifest(*info_dir)));
  });
}

}  // namespace ft::launch
