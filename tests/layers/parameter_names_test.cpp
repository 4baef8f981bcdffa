// Checkpoints of existing runs, tests/golden/make_glow_golden.py and the TARFLOW
// parity tests load Glow and TARFLOW parameters by name: names and their order are
// a file format. The expected lists are what the hard-wired models registered
// before they were re-expressed on the flows library (layers/flows).
#include <boost/test/unit_test.hpp>
#include <fmt/core.h>
#include <string>
#include <vector>

#include "framework/random/generator.h"
#include "layers/glow/glow.h"
#include "layers/tarflow/tarflow.h"
#include "tests/layers/tarflow_test_util.h"

using namespace ft;
using namespace ft::layers;

namespace {

std::vector<std::string> names_of(const nn::NamedTensors& tensors) {
  std::vector<std::string> names;
  for (const auto& [name, tensor] : tensors) names.push_back(name);
  return names;
}

// Each of `suffixes` under `prefix`, appended to out.
void add_names(std::vector<std::string>& out, const std::string& prefix, const std::vector<std::string>& suffixes) {
  for (const std::string& suffix : suffixes) out.push_back(prefix + suffix);
}

const std::vector<std::string> kFlowStepParameters{
    "actnorm.bias",           "actnorm.logs",          "invconv.lower",
    "invconv.upper",          "invconv.log_s",         "coupling.network.conv1.weight",
    "coupling.network.norm1.bias", "coupling.network.norm1.logs", "coupling.network.conv2.weight",
    "coupling.network.norm2.bias", "coupling.network.norm2.logs", "coupling.network.out.weight",
    "coupling.network.out.bias",   "coupling.network.out.logs"};
const std::vector<std::string> kFlowStepBuffers{"actnorm.initialized", "invconv.permutation", "invconv.sign_s",
                                                "coupling.network.norm1.initialized",
                                                "coupling.network.norm2.initialized"};

GlowConfig two_level_conditional_glow() {
  GlowConfig c;
  c.channels = 2;
  c.image_size = 4;
  c.levels = 2;
  c.depth = 2;
  c.width = 4;
  c.num_classes = 3;
  return c;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(parameter_names)

BOOST_AUTO_TEST_CASE(glow_keeps_its_names_order_and_count) {
  Generator gen(1, 0);
  Glow glow(two_level_conditional_glow(), gen);
  std::vector<std::string> parameters, buffers;
  for (int level = 0; level < 2; ++level) {
    for (int step = 0; step < 2; ++step) {
      add_names(parameters, fmt::format("levels.{}.steps.{}.", level, step), kFlowStepParameters);
      add_names(buffers, fmt::format("levels.{}.steps.{}.", level, step), kFlowStepBuffers);
    }
    if (level == 0) add_names(parameters, "levels.0.split_prior.conv.", {"weight", "bias", "logs"});
  }
  add_names(parameters, "top_prior.",
            {"conv.weight", "conv.bias", "conv.logs", "label_embedding.weight", "label_embedding.bias"});
  BOOST_TEST(names_of(glow.named_parameters()) == parameters, boost::test_tools::per_element());
  BOOST_TEST(names_of(glow.named_buffers()) == buffers, boost::test_tools::per_element());
  BOOST_TEST(glow.parameter_count() == 13952);
}

BOOST_AUTO_TEST_CASE(tarflow_keeps_its_names_order_and_count) {
  Generator gen(1, 0);
  Tarflow tarflow(tarflow_test::tiny_config(3), gen);
  std::vector<std::string> parameters;
  for (int block = 0; block < 2; ++block) {
    std::string prefix = fmt::format("blocks.{}.", block);
    add_names(parameters, prefix, {"pos_embed", "class_embed", "proj_in.weight", "proj_in.bias"});
    for (int layer = 0; layer < 2; ++layer)
      add_names(parameters, prefix + fmt::format("attn_blocks.{}.", layer),
                {"attention_norm.weight", "attention_norm.bias", "attention.qkv.weight", "attention.qkv.bias",
                 "attention.out.weight", "attention.out.bias", "mlp_norm.weight", "mlp_norm.bias", "mlp.fc1.weight",
                 "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias"});
    add_names(parameters, prefix, {"proj_out.weight", "proj_out.bias"});
  }
  BOOST_TEST(names_of(tarflow.named_parameters()) == parameters, boost::test_tools::per_element());
  BOOST_TEST(tarflow.named_buffers().empty());
  BOOST_TEST(tarflow.parameter_count() == 14176);
}

BOOST_AUTO_TEST_SUITE_END()
