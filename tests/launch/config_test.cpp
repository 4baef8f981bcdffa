#include <boost/test/unit_test.hpp>

#include "framework/core/check.h"
#include "launch/config.h"
#include "tests/support/error_message.h"

using ft::Error;
using ft::launch::Config;

BOOST_AUTO_TEST_SUITE(config)

BOOST_AUTO_TEST_CASE(defaults_file_values_and_overrides) {
  Config c = Config::parse("[model]\nkind = \"glow\"\nwidth = 64\n[optim]\nlr = 0.5\n", "test.toml",
                           {"model.width=32", "optim.betas=[0.8, 0.9]", "data.train=/some/path"});
  BOOST_TEST(c.model.width == 32);            // --set beats the file
  BOOST_TEST(c.optim.lr == 0.5);              // the file beats the default
  BOOST_TEST(c.model.levels == 3);            // a default
  BOOST_TEST(c.data.train == "/some/path");  // bare words are strings
  BOOST_TEST((c.optim.betas == std::vector<double>{0.8, 0.9}));
  // The resolved config re-parses to the same values.
  Config again = Config::parse(c.to_toml(), "resolved");
  BOOST_TEST(again.to_toml() == c.to_toml());
  BOOST_TEST(again.section_json("model") == c.section_json("model"));
}

// The typed sections, the JSON a checkpoint records and the resolved TOML all come from
// the one key table: a key of another model kind holds its default and is in neither
// output; an integer written for a number reads as that number.
BOOST_AUTO_TEST_CASE(typed_sections_and_outputs_agree) {
  Config c = Config::parse("[model]\nkind = \"glow\"\n[optim]\nlr = 2\n", "test.toml");
  BOOST_TEST(c.model.kind == "glow");
  BOOST_TEST(c.optim.lr == 2.0);
  BOOST_TEST(c.model.patch_size == 4);  // tarflow's default, unused by glow
  nlohmann::json model = c.section_json("model");
  BOOST_TEST(model.contains("levels"));
  BOOST_TEST(!model.contains("patch_size"));
  BOOST_TEST(!model.contains("transforms"));
  BOOST_TEST(c.to_toml().find("patch_size") == std::string::npos);
  BOOST_TEST(c.section_json("optim")["lr"].is_number_float());
  BOOST_TEST(c.to_json()["train"]["global_batch"] == 64);
  BOOST_TEST(c.to_json().size() == 6u);  // model, data, train, optim, checkpoint, log
  Config flow = Config::parse("[model]\nkind = \"flow\"\n[[model.transforms]]\ntype = \"reverse\"\n", "f.toml");
  BOOST_TEST(flow.model.transforms.size() == 1u);
  BOOST_TEST(flow.section_json("model")["transforms"][0]["type"] == "reverse");
  BOOST_TEST(!flow.section_json("model").contains("levels"));
}

BOOST_AUTO_TEST_CASE(bad_keys_and_values_are_named) {
  BOOST_TEST(ft::testing::error_message([] { Config::parse("[model]\nwidht = 3\n", "a.toml"); }).find("'model.widht'") !=
             std::string::npos);
  BOOST_TEST(ft::testing::error_message([] { Config::parse("[model]\nwidth = \"wide\"\n", "a.toml"); }).find("model.width") !=
             std::string::npos);
  BOOST_TEST(ft::testing::error_message([] { Config::parse("[model]\nkind = \"glow\"\npatch_size = 4\n", "a.toml"); })
                 .find("model.patch_size") != std::string::npos);
  BOOST_TEST(ft::testing::error_message([] { Config::parse("", "a.toml", {"train.precision=fp8"}); }).find("train.precision") !=
             std::string::npos);
  BOOST_TEST(ft::testing::error_message([] { Config::parse("", "a.toml", {"nodot=3"}); }).find("nodot") != std::string::npos);
  BOOST_TEST(ft::testing::error_message([] { Config::parse("[model\n", "broken.toml"); }).find("broken.toml") != std::string::npos);
  BOOST_TEST(ft::testing::error_message([] { Config::load("/nonexistent/x.toml", {}); }).find("/nonexistent/x.toml") !=
             std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
