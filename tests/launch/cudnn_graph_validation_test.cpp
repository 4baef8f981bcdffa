// cuDNN's frontend checks, without a GPU, the graphs that every TARFLOW preset
// in configs/ would build on an H100/H200 (sm_90): causal SDPA forward and
// backward in bf16 at the preset's attention shape, layer norm at its
// (rows, width). A new preset is covered by being in configs/. What validation
// does not reach (lowering, heuristics, plans) is said in cudnn_graphs.cpp.
#include <boost/test/unit_test.hpp>

#if defined(FLOWTRAIN_HAVE_CUDA)

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "framework/core/check.h"
#include "framework/kernels/cuda/cudnn_graphs.h"
#include "launch/config.h"
#include "launch/model_factory.h"

namespace {

using ft::kernels::cuda::AttentionShape;

constexpr int kHopper = 90;

std::filesystem::path configs_dir() {
  const char* dir = std::getenv("FLOWTRAIN_SOURCE_DIR");
  return std::filesystem::path(dir ? dir : ".") / "configs";
}

struct Preset {
  std::string name;
  AttentionShape attention;
  int64_t width;
};

// The per-GPU batch of one rank (the largest) and of eight (one node), where
// global_batch divides.
std::vector<Preset> tarflow_presets() {
  std::vector<Preset> presets;
  for (const auto& entry : std::filesystem::directory_iterator(configs_dir())) {
    if (entry.path().extension() != ".toml") continue;
    auto config = ft::launch::Config::load(entry.path().string(), {});
    if (config.model.kind != "tarflow") continue;
    auto model = ft::launch::tarflow_config_from(config);
    const int64_t global_batch = config.train.global_batch;
    for (int64_t ranks : {1, 8}) {
      if (global_batch % ranks != 0) continue;
      presets.push_back({entry.path().filename().string() + " on " + std::to_string(ranks) + " GPU(s)",
                         {global_batch / ranks, model.width / model.head_dim, model.tokens(), model.head_dim},
                         model.width});
    }
  }
  return presets;
}

// The message of the ft::Error that fn throws (fails the test when it throws none).
template <class Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const ft::Error& e) {
    return e.what();
  }
  BOOST_FAIL("expected an ft::Error");
  return "";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cudnn_graph_validation)

BOOST_AUTO_TEST_CASE(every_tarflow_preset_validates_for_sm90) {
  const std::vector<Preset> presets = tarflow_presets();
  BOOST_TEST_REQUIRE(presets.size() >= 7u, "found " << presets.size() << " TARFLOW presets in " << configs_dir());
  for (const Preset& preset : presets) {
    BOOST_TEST_CONTEXT(preset.name) {
      try {
        ft::kernels::cuda::validate_attention_graphs(preset.attention, ft::DType::bf16, kHopper);
        ft::kernels::cuda::validate_layer_norm_graphs(preset.attention.batch * preset.attention.tokens,
                                                      preset.width, kHopper);
      } catch (const ft::Error& invalid) {
        BOOST_ERROR(invalid.what());
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(f16_attention_validates_too) {
  BOOST_CHECK_NO_THROW(ft::kernels::cuda::validate_attention_graphs({4, 4, 64, 64}, ft::DType::f16, kHopper));
}

BOOST_AUTO_TEST_CASE(unsupported_attention_is_rejected_with_the_reason) {
  // cuDNN's flash attention loads head dims in multiples of 8 elements.
  const std::string odd_head_dim = error_of(
      [] { ft::kernels::cuda::validate_attention_graphs({2, 4, 64, 33}, ft::DType::bf16, kHopper); });
  BOOST_TEST(odd_head_dim.find("causal attention forward for q [2, 4, 64, 33] bf16 on sm_90 is invalid") !=
                 std::string::npos,
             odd_head_dim);
  BOOST_TEST(odd_head_dim.find("multiple of 8") != std::string::npos, odd_head_dim);
  BOOST_TEST(odd_head_dim.find("hint:") != std::string::npos, odd_head_dim);
  BOOST_TEST_MESSAGE(odd_head_dim);
  // The target GPU is the one named, not a device (there is none here): Turing
  // has no flash attention.
  const std::string turing =
      error_of([] { ft::kernels::cuda::validate_attention_graphs({2, 4, 64, 64}, ft::DType::bf16, 75); });
  BOOST_TEST(turing.find("requires SM80") != std::string::npos, turing);
  BOOST_TEST_MESSAGE(turing);
}

BOOST_AUTO_TEST_SUITE_END()

#endif  // FLOWTRAIN_HAVE_CUDA
