// The global order does not depend on the world size or thread count; positions
// resume mid-epoch exactly, also at another world size; flips and noise follow
// the sample's global position.
#include <boost/test/unit_test.hpp>
#include <set>

#include "datasets/convert.h"
#include "datasets/image_lookup.h"
#include "datasets/reader.h"
#include "tests/datasets/test_support.h"

namespace ft::datasets {
using namespace testing;

namespace {

// 50 distinct 6x6 RGB images (labels 0..4) in 3 shards, made once for the suite.
struct SmallSet {
  ScratchDir scratch{"reader"};
  std::filesystem::path dir = scratch / "set";
  SmallSet() {
    std::filesystem::path src = scratch / "src";
    for (int i = 0; i < 50; ++i) {
      std::filesystem::path class_dir = src / ("class" + std::to_string(i % 5));
      std::filesystem::create_directories(class_dir);
      write_png(class_dir / (std::to_string(100 + i) + ".png"), make_image(6, 6, 3, uint32_t(i)));
    }
    ConvertOptions options;
    options.out = dir;
    options.resolution = 6;
    options.shards = 3;
    auto source = open_image_source("imagefolder", {src});
    convert_images(*source, options);
  }
};

const SmallSet& small_set() {
  static SmallSet set;
  return set;
}

ReaderOptions base_options() {
  ReaderOptions options;
  options.dir = small_set().dir;
  options.global_batch = 12;
  options.seed = 7;
  options.flip = true;
  options.dequantize = DequantizeOptions{.noise = Noise::uniform};
  return options;
}

// The next global batch assembled from every rank's slice, as floats and sample ids.
struct GlobalBatch {
  std::vector<float> images;
  std::vector<int64_t> ids, labels;
  Position position;
};

std::vector<GlobalBatch> global_batches(ReaderOptions options, int64_t world, int steps) {
  std::vector<std::unique_ptr<Reader>> readers;
  for (int64_t rank = 0; rank < world; ++rank) {
    options.rank = rank;
    options.world_size = world;
    readers.push_back(std::make_unique<Reader>(options));
  }
  std::vector<GlobalBatch> out;
  for (int step = 0; step < steps; ++step) {
    GlobalBatch global;
    for (auto& reader : readers) {
      Batch batch = reader->next();
      std::vector<float> images = batch.images.to_vector<float>();
      std::vector<int64_t> labels = batch.labels.to_vector<int64_t>();
      global.images.insert(global.images.end(), images.begin(), images.end());
      global.ids.insert(global.ids.end(), batch.sample_ids.begin(), batch.sample_ids.end());
      global.labels.insert(global.labels.end(), labels.begin(), labels.end());
      global.position = batch.position;
    }
    out.push_back(std::move(global));
  }
  return out;
}

void require_same(const std::vector<GlobalBatch>& a, const std::vector<GlobalBatch>& b) {
  BOOST_REQUIRE_EQUAL(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    BOOST_TEST_INFO("global batch " << i);
    BOOST_TEST(a[i].ids == b[i].ids, boost::test_tools::per_element());
    BOOST_TEST(a[i].labels == b[i].labels, boost::test_tools::per_element());
    BOOST_TEST(a[i].images == b[i].images);  // bitwise: same noise, same flips
    BOOST_TEST((a[i].position == b[i].position));
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sampler_and_reader)

BOOST_AUTO_TEST_CASE(epoch_order_is_a_seeded_permutation) {
  std::vector<int64_t> a = Sampler::epoch_order(1000, 3, 0, true), b = Sampler::epoch_order(1000, 3, 0, true);
  BOOST_TEST(a == b, boost::test_tools::per_element());
  BOOST_TEST(std::set<int64_t>(a.begin(), a.end()).size() == 1000u);
  BOOST_TEST((a != Sampler::epoch_order(1000, 3, 1, true)));
  BOOST_TEST((a != Sampler::epoch_order(1000, 4, 0, true)));
}

BOOST_AUTO_TEST_CASE(world_sizes_one_to_four_give_the_same_global_batches) {
  // 50 samples, batch 12: 4 batches per epoch, then a new epoch's order.
  std::vector<GlobalBatch> single = global_batches(base_options(), 1, 6);
  for (int64_t world : {2, 3, 4}) {
    BOOST_TEST_CONTEXT("world size " << world) { require_same(single, global_batches(base_options(), world, 6)); }
  }
  // Each epoch's batches are distinct samples; the second epoch starts at (1, 0).
  std::set<int64_t> epoch0;
  for (int i = 0; i < 4; ++i) epoch0.insert(single[size_t(i)].ids.begin(), single[size_t(i)].ids.end());
  BOOST_TEST(epoch0.size() == 48u);
  BOOST_TEST((single[4].position == Position{1, 0}));
}

BOOST_AUTO_TEST_CASE(thread_count_and_queue_depth_do_not_change_batches) {
  ReaderOptions one = base_options();
  one.threads = 1;
  one.queue_batches = 1;
  ReaderOptions three = base_options();
  three.threads = 3;
  three.queue_batches = 5;
  require_same(global_batches(one, 1, 7), global_batches(three, 1, 7));
}

BOOST_AUTO_TEST_CASE(resume_mid_epoch_at_another_world_size) {
  std::vector<GlobalBatch> straight = global_batches(base_options(), 2, 7);
  // Take 2 steps at world size 2, save the position, continue at world size 3.
  ReaderOptions first = base_options();
  first.world_size = 2;
  Reader reader(first);
  reader.next();
  reader.next();
  Position saved = reader.position();
  BOOST_TEST((saved == Position{0, 24}));
  ReaderOptions resumed = base_options();
  resumed.start = saved;
  std::vector<GlobalBatch> rest = global_batches(resumed, 3, 5);
  require_same(std::vector<GlobalBatch>(straight.begin() + 2, straight.end()), rest);
}

BOOST_AUTO_TEST_CASE(flip_mirrors_the_stored_pixels) {
  ReaderOptions plain = base_options();
  plain.flip = false;
  plain.output = ReaderOutput::uint8_nhwc;
  ReaderOptions flipped = plain;
  flipped.flip = true;
  Reader a(plain), b(flipped);
  Batch x = a.next(), y = b.next();
  BOOST_TEST(x.sample_ids == y.sample_ids, boost::test_tools::per_element());
  std::vector<uint8_t> px = x.images.to_vector<uint8_t>(), py = y.images.to_vector<uint8_t>();
  int mirrored = 0, same = 0;
  for (int64_t i = 0; i < 12; ++i) {
    bool is_mirror = true, is_same = true;
    for (int64_t yy = 0; yy < 6; ++yy)
      for (int64_t xx = 0; xx < 6; ++xx)
        for (int64_t c = 0; c < 3; ++c) {
          uint8_t original = px[size_t(((i * 6 + yy) * 6 + xx) * 3 + c)];
          is_mirror &= py[size_t(((i * 6 + yy) * 6 + (5 - xx)) * 3 + c)] == original;
          is_same &= py[size_t(((i * 6 + yy) * 6 + xx) * 3 + c)] == original;
        }
    BOOST_TEST((is_mirror || is_same));
    mirrored += is_mirror;
    same += is_same;
  }
  BOOST_TEST(mirrored > 0);
  BOOST_TEST(same > 0);
}

BOOST_AUTO_TEST_CASE(dequantization_stays_in_each_pixels_bin) {
  ReaderOptions raw = base_options();
  raw.flip = false;
  raw.output = ReaderOutput::uint8_nhwc;
  ReaderOptions uniform = raw;
  uniform.output = ReaderOutput::float_nchw;
  uniform.dequantize = {Noise::uniform, 0.0, ValueRange::zero_one};
  ReaderOptions gaussian = uniform;
  gaussian.dequantize = {Noise::gaussian, 0.1, ValueRange::symmetric};
  ReaderOptions learned = uniform;  // the model adds its own u: the bin's corner, p / 256
  learned.dequantize = {Noise::learned, 0.0, ValueRange::zero_one};
  Reader a(raw), b(uniform), g(gaussian), l(learned);
  std::vector<uint8_t> pixels = a.next().images.to_vector<uint8_t>();
  std::vector<float> u = b.next().images.to_vector<float>(), n = g.next().images.to_vector<float>();
  std::vector<float> corners = l.next().images.to_vector<float>();
  bool in_bin = true, at_corner = true;
  double noise_sum = 0, noise_square = 0;
  for (int64_t i = 0; i < 12; ++i)
    for (int64_t p = 0; p < 36; ++p)
      for (int64_t c = 0; c < 3; ++c) {
        double pixel = pixels[size_t((i * 36 + p) * 3 + c)];
        double value = u[size_t((i * 3 + c) * 36 + p)] * 256.0;
        in_bin &= value > pixel && value < pixel + 1;
        at_corner &= corners[size_t((i * 3 + c) * 36 + p)] * 256.0 == pixel;
        double noise = (n[size_t((i * 3 + c) * 36 + p)] - (pixel / 127.5 - 1.0)) / 0.1;
        noise_sum += noise;
        noise_square += noise * noise;
      }
  BOOST_TEST(in_bin);
  BOOST_TEST(at_corner);
  double count = 12 * 36 * 3, mean = noise_sum / count;
  BOOST_TEST(std::abs(mean) < 0.15);
  BOOST_TEST(std::abs(noise_square / count - 1.0) < 0.2);
}

BOOST_AUTO_TEST_CASE(keeping_the_last_partial_batch) {
  ReaderOptions options = base_options();
  options.drop_last = false;
  options.global_batch = 20;
  Reader reader(options);
  BOOST_TEST(reader.batches_per_epoch() == 3);
  reader.next();
  reader.next();
  Batch last = reader.next();
  BOOST_TEST(last.sample_ids.size() == 10u);
  BOOST_TEST((last.next == Position{1, 0}));
}

BOOST_AUTO_TEST_CASE(bad_batch_sizes_are_refused) {
  ReaderOptions options = base_options();
  options.global_batch = 10;
  options.world_size = 3;
  BOOST_CHECK_EXCEPTION(Reader{options}, ft::Error, [](const ft::Error& e) {
    return std::string(e.what()).find("multiple of the world size") != std::string::npos;
  });
}

BOOST_AUTO_TEST_SUITE_END()


BOOST_AUTO_TEST_SUITE(image_lookup)

BOOST_AUTO_TEST_CASE(images_by_index_are_the_stored_ones_across_shards) {
  const Contents all = read_back(small_set().dir);
  const std::vector<int64_t> indices = {49, 0, 17, 16, 33, 17};  // shard boundaries of 50 in 3 shards, a repeat
  const ImagesAt got = read_images_at(small_set().dir, indices);
  BOOST_TEST((got.shape == ImageShape{6, 6, 3}));
  BOOST_TEST(got.pixels.shape() == (Shape{6, 6, 6, 3}), boost::test_tools::per_element());
  const std::vector<uint8_t> pixels = got.pixels.to_vector<uint8_t>();
  const std::vector<int64_t> labels = got.labels.to_vector<int64_t>();
  const size_t bytes = 6 * 6 * 3;
  for (size_t i = 0; i < indices.size(); ++i) {
    const auto index = size_t(indices[i]);
    BOOST_TEST(std::equal(pixels.begin() + long(i * bytes), pixels.begin() + long((i + 1) * bytes),
                          all.pixels.begin() + long(index * bytes)),
               "image " << index);
    BOOST_TEST(labels[i] == all.labels[index]);
  }
}

BOOST_AUTO_TEST_CASE(an_index_outside_the_set_names_the_folder) {
  for (int64_t bad : {int64_t(50), int64_t(-1)}) {
    try {
      read_images_at(small_set().dir, {0, bad});
      BOOST_FAIL("no error for image " << bad);
    } catch (const ft::Error& e) {
      const std::string what = e.what();
      BOOST_TEST((what.find(small_set().dir.string()) != std::string::npos &&
                  what.find("image " + std::to_string(bad) + " is outside the set of 50") != std::string::npos),
                 what);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace ft::datasets
