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
  BOOST_TEST(c.integer("model.width") == 32);                 // --set beats the file
  BOOST_TEST(c.number("optim.lr") == 0.5);                    // the file beats the default
  BOOST_TEST(c.integer("model.levels") == 3);                 // a default
  BOOST_TEST(c.string("data.train") == "/some/path");         // bare words are strings
  BOOST_TEST((c.numbers("optim.betas") == std::vector<double>{0.8, 0.9}));
  // The resolved config re-parses to the same values.
  Config again = Config::parse(c.to_toml(), "resolved");
  BOOST_TEST(again.to_toml() == c.to_toml());
  BOOST_TEST(again.section_json("model") == c.section_json("model"));
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
