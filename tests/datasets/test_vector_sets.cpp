// Vector sets: npy and csv sources converted and read back exactly, the reader's
// order and resume, the errors of bad sources and of image-only reader options,
// corruption caught by verify, and the image format left as it was.
#include <boost/test/unit_test.hpp>
#include <fmt/core.h>

#include <array>
#include <cstring>
#include <fstream>

#include "datasets/convert_vectors.h"
#include "datasets/reader.h"
#include "datasets/shard_handles.h"
#include "datasets/toy_sets.h"
#include "datasets/verify.h"
#include "tests/datasets/test_support.h"

namespace ft::datasets {
using namespace testing;

namespace {

template <class T>
std::vector<T> read_raw(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<T> values(std::filesystem::file_size(path) / sizeof(T));
  in.read(reinterpret_cast<char*>(values.data()), std::streamsize(values.size() * sizeof(T)));
  return values;
}

// numpy's fixtures (make_vector_fixture.py) in a scratch folder of their own.
struct Fixtures {
  ScratchDir scratch{"vectors"};
  std::filesystem::path dir = scratch / "fixtures";
  Fixtures() {
    std::string script = source_dir() + "/tests/datasets/make_vector_fixture.py";
    BOOST_REQUIRE(run_shell("/usr/bin/python3 " + script + " " + dir.string()) == 0);
  }
};

ReaderOptions in_stored_order(const std::filesystem::path& dir, int64_t batch) {
  ReaderOptions options;
  options.dir = dir;
  options.global_batch = batch;
  options.shuffle = false;
  options.drop_last = false;
  options.threads = 1;
  return options;
}

struct VectorContents {
  Manifest manifest;
  std::vector<float> features;
  std::vector<int64_t> labels;
};

VectorContents read_vectors(const std::filesystem::path& dir) {
  Reader reader(in_stored_order(dir, read_manifest(dir).count));
  Batch batch = reader.next();
  BOOST_TEST((batch.images.shape() == Shape{reader.manifest().count, reader.manifest().features}));
  BOOST_TEST(batch.images.dtype() == DType::f32);
  return {reader.manifest(), batch.images.to_vector<float>(), batch.labels.to_vector<int64_t>()};
}

// Bitwise, so -0.0 and subnormals count.
bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

ConvertOptions into(const std::filesystem::path& out, int64_t shards) {
  ConvertOptions options;
  options.out = out;
  options.shards = shards;
  options.block_images = 7;  // blocks that straddle the source files and shards
  return options;
}

// 50 toy points in 3 shards: a small set for the reader's order.
std::filesystem::path toy_set(const ScratchDir& scratch) {
  ToySource source(ToySet::pinwheel, 50, 11);
  convert_vectors(source, into(scratch / "toy", 3));
  return scratch / "toy";
}

void flip_byte(const std::filesystem::path& path, std::streamoff at) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  file.seekg(at);
  char byte = char(file.get());
  file.seekp(at);
  file.put(char(byte ^ 0x5A));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(vector_sets)

BOOST_FIXTURE_TEST_CASE(npy_float32_and_float64_read_back_exactly, Fixtures) {
  auto source = open_vector_source("npy", {dir / "a.npy", dir / "b.npy"});
  Manifest written = convert_vectors(*source, into(scratch / "set", 3));
  BOOST_TEST(written.is_vectors());
  VectorContents got = read_vectors(scratch / "set");
  BOOST_TEST(got.manifest.is_vectors());
  BOOST_TEST(got.manifest.features == 3);
  BOOST_TEST(got.manifest.count == 57);
  BOOST_TEST(got.manifest.shards.size() == 3u);
  BOOST_TEST(got.manifest.num_classes == 0);
  BOOST_TEST(same_bits(got.features, read_raw<float>(dir / "expected_npy.f32")));
  BOOST_TEST(got.labels == std::vector<int64_t>(57, -1), boost::test_tools::per_element());
  BOOST_TEST(got.manifest.source["kind"] == "npy");
}

BOOST_FIXTURE_TEST_CASE(csv_with_header_labels_and_two_files_reads_back_exactly, Fixtures) {
  auto source = open_vector_source("csv", {dir / "table.csv", dir / "table2.csv"}, 3);
  BOOST_TEST(source->size() == 15);
  BOOST_TEST(source->features() == 3);
  convert_vectors(*source, into(scratch / "set", 2));
  VectorContents got = read_vectors(scratch / "set");
  BOOST_TEST(same_bits(got.features, read_raw<float>(dir / "expected_csv.f32")));
  std::vector<int32_t> labels = read_raw<int32_t>(dir / "expected_csv.i32");
  BOOST_TEST(got.labels == std::vector<int64_t>(labels.begin(), labels.end()), boost::test_tools::per_element());
  BOOST_TEST(got.manifest.num_classes == *std::max_element(labels.begin(), labels.end()) + 1);
}

BOOST_FIXTURE_TEST_CASE(npy_arrays_a_vector_set_refuses_name_the_file_and_dtype, Fixtures) {
  expect_error([&] { open_vector_source("npy", {dir / "int.npy"}); }, {"int.npy", "<i8"});
  expect_error([&] { open_vector_source("npy", {dir / "bigendian.npy"}); }, {"bigendian.npy", ">f4"});
  expect_error([&] { open_vector_source("npy", {dir / "fortran.npy"}); }, {"fortran.npy", "Fortran", "<f4"});
  expect_error([&] { open_vector_source("npy", {dir / "a.npy"}, 2); }, {"--label-column", "npy"});
}

BOOST_AUTO_TEST_CASE(bad_csv_cells_name_file_line_and_column) {
  ScratchDir scratch("vectors-csv");
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(scratch / name) << text;
    return scratch / name;
  };
  expect_error([&] { open_vector_source("csv", {write("cell.csv", "1,2\n3,4\n\n5,abc\n")}); },
               {"cell.csv:4:2:", "'abc' is not a finite number"});
  expect_error([&] { open_vector_source("csv", {write("nan.csv", "1,2\nnan,4\n")}); }, {"nan.csv:2:1:", "'nan'"});
  expect_error([&] { open_vector_source("csv", {write("huge.csv", "1,1e39\n")}); }, {"huge.csv:1:2:", "'1e39'"});
  expect_error([&] { open_vector_source("csv", {write("label.csv", "1,2,0\n3,4,1.5\n")}, 3); },
               {"label.csv:2:3:", "label '1.5'"});
  expect_error([&] { open_vector_source("csv", {write("negative.csv", "1,2,-1\n")}, 3); }, {"negative.csv:1:3:"});
  expect_error([&] { open_vector_source("csv", {write("ragged.csv", "a,b\n1,2\n3\n")}); }, {"ragged.csv:3:", "1 columns"});
  // A first line with a number among its cells is a bad row, not a header.
  expect_error([&] { open_vector_source("csv", {write("mixed.csv", "x,2\n1,2\n")}); }, {"mixed.csv:1:1:", "'x'"});
  expect_error([&] { open_vector_source("csv", {write("short.csv", "1,2\n")}, 3); }, {"--label-column 3", "2 columns"});
  // The source fails on opening: the conversion never creates its output.
  BOOST_TEST(!std::filesystem::exists(scratch / "out"));
}

BOOST_AUTO_TEST_CASE(resume_mid_epoch_at_another_world_size) {
  ScratchDir scratch("vectors-resume");
  std::filesystem::path set = toy_set(scratch);
  ReaderOptions options = in_stored_order(set, 8);
  options.shuffle = true;
  options.drop_last = true;
  options.seed = 5;
  std::vector<std::vector<float>> straight;
  Position saved;
  {
    Reader reader(options);
    for (int i = 0; i < 9; ++i) {  // into the second epoch (6 batches an epoch)
      if (i == 3) saved = reader.position();
      straight.push_back(reader.next().images.to_vector<float>());
    }
  }
  BOOST_TEST(saved.consumed == 24);
  // Two ranks resumed from the saved position give the same global batches.
  std::vector<std::unique_ptr<Reader>> ranks;
  for (int64_t rank = 0; rank < 2; ++rank) {
    ReaderOptions resumed = options;
    resumed.rank = rank;
    resumed.world_size = 2;
    resumed.start = saved;
    ranks.push_back(std::make_unique<Reader>(resumed));
  }
  for (size_t i = 3; i < straight.size(); ++i) {
    std::vector<float> global;
    for (auto& rank : ranks) {
      std::vector<float> part = rank->next().images.to_vector<float>();
      global.insert(global.end(), part.begin(), part.end());
    }
    BOOST_TEST(same_bits(global, straight[i]));
  }
}

BOOST_AUTO_TEST_CASE(shards_read_whole_or_row_by_row_give_the_same_rows) {
  ScratchDir scratch("vectors-resident");
  std::filesystem::path set = toy_set(scratch);
  Manifest manifest = read_manifest(set);
  ShardHandles resident(set, manifest), from_file(set, manifest, 1, 0);
  for (size_t shard = 0; shard < manifest.shards.size(); ++shard)
    for (int64_t row = manifest.shards[shard].count - 1; row >= 0; --row) {
      std::array<float, 2> a{}, b{};
      resident.read_sample(shard, row, a.data());
      from_file.read_sample(shard, row, b.data());
      BOOST_TEST(std::memcmp(a.data(), b.data(), sizeof a) == 0);
    }
  std::filesystem::resize_file(set / manifest.shards[2].file, 100);
  expect_error([&] { resident.check_read_shards_intact(); }, {manifest.shards[2].file, "truncated or replaced"});
}

BOOST_AUTO_TEST_CASE(image_only_reader_options_fail_naming_the_set) {
  ScratchDir scratch("vectors-options");
  std::filesystem::path set = toy_set(scratch);
  ReaderOptions flip = in_stored_order(set, 4);
  flip.flip = true;
  expect_error([&] { Reader reader(flip); }, {set.string(), "vector set (2 features)", "flip"});
  ReaderOptions bytes = in_stored_order(set, 4);
  bytes.output = ReaderOutput::uint8_nhwc;
  expect_error([&] { Reader reader(bytes); }, {set.string(), "not uint8 images"});
  ReaderOptions noise = in_stored_order(set, 4);
  noise.dequantize = DequantizeOptions{};
  expect_error([&] { Reader reader(noise); }, {set.string(), "dequantization"});
}

BOOST_AUTO_TEST_CASE(verify_catches_a_corrupted_or_truncated_vector_shard) {
  ScratchDir scratch("vectors-corrupt");
  std::filesystem::path set = toy_set(scratch);
  BOOST_TEST(verify_dataset(set).count == 50);
  std::filesystem::path shard = set / "shard-00001-of-00003.h5";
  // The features lie at the end of the file: one flipped bit of one coordinate.
  flip_byte(shard, std::streamoff(std::filesystem::file_size(shard)) - 3);
  expect_error([&] { verify_dataset(set); }, {"shard-00001-of-00003.h5", "checksum mismatch"});
  std::filesystem::resize_file(shard, std::filesystem::file_size(shard) - 100);
  expect_error([&] { verify_dataset(set); }, {"shard-00001-of-00003.h5", "truncated"});
}

BOOST_AUTO_TEST_CASE(a_shard_of_the_wrong_kind_is_named) {
  ScratchDir scratch("vectors-kind");
  std::filesystem::path set = toy_set(scratch);
  Manifest manifest = read_manifest(set);
  manifest.kind = SetKind::images;
  manifest.height = manifest.width = 1;
  manifest.channels = 2;
  std::filesystem::remove(set / kManifestFile);
  write_manifest(set, manifest);
  expect_error([&] { verify_dataset(set); }, {"shard-00000-of-00003.h5", "holds vectors, the manifest says images"});
}

BOOST_AUTO_TEST_CASE(image_manifests_stay_version_1_and_vector_ones_are_version_2) {
  Manifest images;
  images.height = images.width = 4;
  images.channels = 3;
  images.shards = {{"shard-00000-of-00001.h5", 0, 1, "x"}};
  nlohmann::json json = images.to_json();
  BOOST_TEST(json["version"] == 1);
  BOOST_TEST(!json.contains("kind"));
  BOOST_TEST(!json.contains("features"));
  BOOST_TEST(!Manifest::from_json(json, "m").is_vectors());
  json["version"] = 2;
  json["kind"] = "images";
  BOOST_TEST(Manifest::from_json(json, "m").image_bytes() == 48);

  Manifest vectors;
  vectors.kind = SetKind::vectors;
  vectors.features = 5;
  vectors.shards = images.shards;
  json = vectors.to_json();
  BOOST_TEST(json["version"] == 2);
  BOOST_TEST(json["kind"] == "vectors");
  BOOST_TEST(json["layout"] == "ND");
  BOOST_TEST(!json.contains("height"));
  Manifest back = Manifest::from_json(json, "m");
  BOOST_TEST(back.is_vectors());
  BOOST_TEST(back.features == 5);
  BOOST_TEST(back.sample_bytes() == 20);
  json["version"] = 3;
  expect_error([&] { Manifest::from_json(json, "m.json"); }, {"m.json", "version 3"});
  json["version"] = 2;
  json["features"] = 0;
  expect_error([&] { Manifest::from_json(json, "m.json"); }, {"m.json", "features 0"});
}

BOOST_AUTO_TEST_CASE(cli_make_toy_info_verify_and_convert_csv) {
  ScratchDir scratch("vectors-cli");
  std::string out, set = scratch.str("moons");
  BOOST_TEST(run_flowtrain("data make-toy two-moons --n 1000 --seed 3 --shards 2 --out " + set, out) == 0);
  BOOST_TEST_INFO(out);
  BOOST_TEST(out.find("converted 1000 vectors (D = 2) into 2 shards") != std::string::npos);
  BOOST_TEST(run_flowtrain("data info " + set, out) == 0);
  BOOST_TEST_INFO(out);
  BOOST_TEST(out.find("kind:     vectors") != std::string::npos);
  BOOST_TEST(out.find("vectors:  1000 (D = 2 float32, ND)") != std::string::npos);
  BOOST_TEST(out.find("classes:  2") != std::string::npos);
  BOOST_TEST(run_flowtrain("data verify " + set, out) == 0);
  BOOST_TEST(out.find("ok: 2 shards, 1000 vectors") != std::string::npos);
  // The same seed in other shards: the same points; another seed: others.
  BOOST_TEST(run_flowtrain("data make-toy two-moons --n 1000 --seed 3 --shards 5 --out " + scratch.str("again"), out) == 0);
  BOOST_TEST(run_flowtrain("data make-toy two-moons --n 1000 --seed 4 --out " + scratch.str("other"), out) == 0);
  std::vector<float> first = read_vectors(set).features;
  BOOST_TEST(same_bits(read_vectors(scratch / "again").features, first));
  BOOST_TEST(!same_bits(read_vectors(scratch / "other").features, first));
  BOOST_TEST(first[0] == float(toy_point(ToySet::two_moons, 3, 0).x));

  std::ofstream(scratch / "t.csv") << "a,b,k\n0.5,1.5,2\n-1,2e-3,0\n";
  BOOST_TEST(run_flowtrain("data convert --from csv " + scratch.str("t.csv") + " --label-column 3 --out " +
                               scratch.str("csv"), out) == 0);
  BOOST_TEST_INFO(out);
  VectorContents csv = read_vectors(scratch / "csv");
  BOOST_TEST(csv.features == (std::vector<float>{0.5f, 1.5f, -1.0f, 2e-3f}), boost::test_tools::per_element());
  BOOST_TEST(csv.labels == (std::vector<int64_t>{2, 0}), boost::test_tools::per_element());

  std::ofstream(scratch / "bad.csv") << "1,2\n3,x4\n";
  BOOST_TEST(run_flowtrain("data convert --from csv " + scratch.str("bad.csv") + " --out " + scratch.str("bad"), out) == 1);
  BOOST_TEST_INFO(out);
  BOOST_TEST(out.find("bad.csv:2:2: 'x4' is not a finite number") != std::string::npos);
  BOOST_TEST(std::count(out.begin(), out.end(), '\n') == 1);
  BOOST_TEST(!std::filesystem::exists(scratch / "bad" / kManifestFile));
  // Nothing already saved is overwritten.
  BOOST_TEST(run_flowtrain("data make-toy circles --n 10 --out " + set, out) == 1);
  BOOST_TEST(out.find("already holds a dataset") != std::string::npos);
  BOOST_TEST(same_bits(read_vectors(set).features, first));
  BOOST_TEST(run_flowtrain("data convert --from npy " + scratch.str("t.csv") + " --resolution 4 --out " +
                               scratch.str("npy"), out) == 1);
  BOOST_TEST(run_flowtrain("data make-toy spiral --n 10 --out " + scratch.str("spiral"), out) != 0);
  BOOST_TEST(run_flowtrain("data make-toy circles --n 0 --out " + scratch.str("none"), out) == 1);
  BOOST_TEST(out.find("--n 0 is not positive") != std::string::npos);
  BOOST_TEST(run_flowtrain("data convert --from csv " + scratch.str("t.csv") + " --label-column 0 --out " +
                               scratch.str("zero"), out) == 1);
  BOOST_TEST(out.find("--label-column 0 is outside the 3 columns") != std::string::npos);
  BOOST_TEST(run_flowtrain("data convert --from idx " + scratch.str("t.csv") + " --label-column 2 --out " +
                               scratch.str("idx"), out) == 1);
  BOOST_TEST(out.find("--label-column applies to --from csv") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace ft::datasets
