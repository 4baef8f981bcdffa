// `flowtrain data convert|verify|info`: sharded HDF5 image sets from image folders,
// IDX, CIFAR-10 or npz; verification against the manifest; a summary.
#include <fmt/core.h>

#include <chrono>

#include "datasets/convert.h"
#include "datasets/verify.h"
#include "launch/commands.h"

namespace ft::launch {

namespace {

struct ConvertArguments {
  std::string from;
  std::vector<std::string> sources;
  std::string out;
  int64_t shards = 0, images_per_shard = 0, resolution = 0, channels = 0;
  std::string on_bad_image = "fail";
};

void run_convert(const ConvertArguments& args) {
  datasets::ConvertOptions options;
  options.out = args.out;
  options.shards = args.shards;
  options.images_per_shard = args.images_per_shard;
  options.resolution = args.resolution;
  options.channels = args.channels;
  options.on_bad_image = datasets::bad_image_policy_from_name(args.on_bad_image);
  std::vector<std::filesystem::path> paths(args.sources.begin(), args.sources.end());
  auto start = std::chrono::steady_clock::now();
  auto source = datasets::open_image_source(args.from, paths);
  datasets::Manifest manifest = datasets::convert_images(*source, options);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("converted {} images ({}x{}x{}) into {} shards in {} ({:.1f} s, {:.0f} images/s); {} skipped\n",
             manifest.count, manifest.height, manifest.width, manifest.channels, manifest.shards.size(), args.out,
             seconds, double(manifest.count + manifest.skipped_images) / seconds, manifest.skipped_images);
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
  convert->callback([args] { run_convert(*args); });

  auto verify_dir = std::make_shared<std::string>();
  CLI::App* verify = data->add_subcommand("verify", "check every shard against the manifest");
  verify->add_option("dir", *verify_dir, "dataset folder")->required();
  verify->callback([verify_dir] {
    datasets::Manifest manifest = datasets::verify_dataset(*verify_dir);
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
