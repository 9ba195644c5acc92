// The SDK from a user's side: install Lamina into a temporary prefix, build each example plugin
// out of tree with find_package(Lamina) against that prefix only, and train a model that uses
// it, loaded through LAMINA_PLUGIN_PATH, without rebuilding Lamina.
#define BOOST_TEST_MODULE cli_sdk
#include <boost/test/unit_test.hpp>

#include "test_support.hpp"

using namespace lamina::test;

namespace {
const fs::path kSource = LAMINA_TEST_SOURCE_DIR;
const fs::path kBuild = LAMINA_TEST_BUILD_DIR;
}  // namespace

BOOST_AUTO_TEST_CASE(example_plugins_build_against_an_installed_lamina_and_train) {
  TempDir dir;
  const fs::path prefix = dir / "prefix";
  const auto install = run("cmake --install " + kBuild.string() + " --prefix " + prefix.string());
  BOOST_TEST_REQUIRE(install.status == 0, install.output);
  for (const char* f :
       {"bin/lamina", "lib/cmake/Lamina/LaminaConfig.cmake", "lib/cmake/Lamina/LaminaConfigVersion.cmake",
        "lib/cmake/Lamina/LaminaPlugin.cmake", "include/lamina/plugin.hpp", "include/lamina/version.hpp",
        "lib/lamina/plugins/lamina_affine.so"}) {
    BOOST_TEST(fs::exists(prefix / f), f);
  }
  // The SDK is what a plugin may include, nothing more: no runtime header is installed, and no
  // installed header reaches for Boost (plugins need only the SDK, Eigen and OpenMP).
  for (const char* runtime : {"model", "trainer", "dataset", "network", "registry", "plugin_loader", "search",
                              "commands", "cluster", "safetensors"}) {
    BOOST_TEST(!fs::exists(prefix / "include" / "lamina" / (std::string(runtime) + ".hpp")), runtime);
  }
  for (const auto& header : fs::directory_iterator(prefix / "include" / "lamina")) {
    BOOST_TEST(read_file(header.path()).find("boost/") == std::string::npos, header.path());
  }
  for (const char* example : {"leaky_relu", "elastic_net"}) {
    BOOST_TEST_CONTEXT(example) {
      // A copy of the example, so nothing of the source tree is in reach.
      const fs::path src = dir / (std::string(example) + "-src");
      fs::copy(kSource / "examples" / "plugins" / example, src, fs::copy_options::recursive);
      const fs::path build = dir / (std::string(example) + "-build");
      const auto configure = run("cmake -S " + src.string() + " -B " + build.string() +
                                 " -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=" + prefix.string());
      BOOST_TEST_REQUIRE(configure.status == 0, configure.output);
      const auto compile = run("cmake --build " + build.string());
      BOOST_TEST_REQUIRE(compile.status == 0, compile.output);
      BOOST_TEST(compile.output.find("warning") == std::string::npos, compile.output);
      const auto train = run("LAMINA_PLUGIN_PATH=" + (build / "lamina-plugins").string() + " " +
                             (prefix / "bin" / "lamina").string() + " train " + (src / "model.yaml").string() +
                             " --epochs 1 --no-progress --out " + (dir / (std::string(example) + "-run")).string());
      BOOST_TEST(train.status == 0, train.output);
      BOOST_TEST(train.output.find("test accuracy: 0.") != std::string::npos);
      // Without the plugin folder the type is unknown: nothing of it went into Lamina itself.
      const auto without = run((prefix / "bin" / "lamina").string() + " train " + (src / "model.yaml").string() +
                               " --epochs 1 --no-progress --out " + (dir / "none").string());
      BOOST_TEST(without.status == 2, without.output);
    }
  }
}
