// `lamina plugins`, `plugins info`, help and version.
#define BOOST_TEST_MODULE cli_plugins
#include <boost/test/unit_test.hpp>
#include <lamina/abi.hpp>

#include "test_support.hpp"

using namespace lamina::test;

BOOST_AUTO_TEST_CASE(lists_every_kind_type_and_origin) {
  const auto r = run_lamina("plugins");
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  for (const char* s : {"layers:", "losses:", "optimizers:", "initializers:", "affine", "relu", "sigmoid", "tanh",
                        "softmax_cross_entropy", "sgd", "he", "xavier", "normal", "lamina_affine.so"}) {
    BOOST_TEST(r.output.find(s) != std::string::npos, s);
  }
}

BOOST_AUTO_TEST_CASE(info_shows_keys_types_defaults_and_docs) {
  const auto r = run_lamina("plugins info affine");
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  BOOST_TEST(r.output.find("layer affine") != std::string::npos);
  BOOST_TEST(r.output.find("units") != std::string::npos);
  BOOST_TEST(r.output.find("(required)") != std::string::npos);
  BOOST_TEST(r.output.find("= he") != std::string::npos);
  BOOST_TEST(r.output.find("= true") != std::string::npos);
  const auto bad = run_lamina("plugins info afine");
  BOOST_TEST(bad.status == 2);
  BOOST_TEST(bad.output.find("no type named 'afine' (did you mean 'affine'?)") != std::string::npos, bad.output);
}

BOOST_AUTO_TEST_CASE(plugin_dir_adds_types) {
  const auto r = run_lamina("plugins --plugin-dir " + (kFixturePluginDir / "second_valid").string());
  BOOST_TEST(r.status == 0);
  BOOST_TEST(r.output.find("scale2") != std::string::npos);
  BOOST_TEST(r.output.find("second_valid 2.3.4") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(help_and_version) {
  const auto h = run_lamina("--help");
  BOOST_TEST(h.status == 0);
  BOOST_TEST(h.output.find("train MODEL.yaml") != std::string::npos);
  const auto th = run_lamina("train --help");
  BOOST_TEST(th.status == 0);
  for (const char* flag : {"--epochs", "--out", "--threads", "--seed", "--plugin-dir", "--set"}) {
    BOOST_TEST(th.output.find(flag) != std::string::npos, flag);
  }
  BOOST_TEST(run_lamina("help plugins").output.find("--plugin-dir") != std::string::npos);
  const auto v = run_lamina("--version");
  BOOST_TEST(v.status == 0);
  BOOST_TEST(v.output.find(std::string("plugin ABI ") + std::to_string(lamina::kAbiVersion)) != std::string::npos);
  BOOST_TEST(run_lamina("").status == 2);
}
