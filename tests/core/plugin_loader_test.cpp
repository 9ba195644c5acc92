// The loader against real shared libraries: the built plugins, and fixtures built to be
// refused (tests/fixtures).
#define BOOST_TEST_MODULE plugin_loader
#include <stdlib.h>

#include <boost/test/unit_test.hpp>
#include <lamina/abi.hpp>
#include <lamina/error.hpp>
#include <lamina/layer.hpp>
#include "runtime/plugin_loader.hpp"

#include "test_support.hpp"

using namespace lamina;
using namespace lamina::test;

namespace {

std::string load_error(const fs::path& dir, bool with_builtins = false) {
  Registry r;
  PluginLoader loader(r);
  try {
    if (with_builtins) loader.load_directory(kPluginDir);
    loader.load_directory(dir);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

BOOST_AUTO_TEST_CASE(loads_the_builtin_plugins_and_records_their_origin) {
  Registry r;
  PluginLoader loader(r);
  loader.load_directory(kPluginDir);
  BOOST_TEST(loader.loaded().size() >= 5u);
  const TypeInfo* affine = r.find(Kind::Layer, "affine");
  BOOST_REQUIRE(affine != nullptr);
  BOOST_TEST(affine->provider.plugin == "affine");
  BOOST_TEST(affine->provider.file.find("lamina_affine.so") != std::string::npos);
  BOOST_TEST(r.find(Kind::Loss, "softmax_cross_entropy") != nullptr);
  BOOST_TEST(r.find(Kind::Optimizer, "sgd") != nullptr);
  BOOST_TEST(r.find(Kind::Initializer, "he") != nullptr);
  for (const char* t : {"relu", "sigmoid", "tanh"}) BOOST_TEST(r.find(Kind::Layer, t) != nullptr);
}

BOOST_AUTO_TEST_CASE(loading_the_same_folder_twice_is_harmless) {
  Registry r;
  PluginLoader loader(r);
  loader.load_directory(kPluginDir);
  const auto n = loader.loaded().size();
  loader.load_directory(kPluginDir);
  BOOST_TEST(loader.loaded().size() == n);
}

BOOST_AUTO_TEST_CASE(another_abi_version_is_refused_naming_file_and_both_versions) {
  const std::string e = load_error(kFixturePluginDir / "wrong_abi");
  BOOST_TEST(e.find("lamina_fixture_wrong_abi.so: plugin built for plugin ABI " + std::to_string(kAbiVersion + 1) +
                    ", newer than this Lamina's ABI " + std::to_string(kAbiVersion)) != std::string::npos, e);
  const std::string old = load_error(kFixturePluginDir / "older_abi");
  BOOST_TEST(old.find("lamina_fixture_older_abi.so: plugin built for plugin ABI " + std::to_string(kAbiVersion - 1) +
                      ", older than this Lamina's ABI " + std::to_string(kAbiVersion) +
                      "; rebuild it against this Lamina's SDK") != std::string::npos, old);
}

BOOST_AUTO_TEST_CASE(another_fingerprint_is_refused_naming_both) {
  const std::string e = load_error(kFixturePluginDir / "wrong_fingerprint");
  BOOST_TEST(e.find("lamina_fixture_wrong_fingerprint.so: plugin was built as 'msvc-19 msvcprt lamina-0.1' but this "
                    "Lamina as '" +
                    std::string(kFingerprint) + "'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_library_that_is_not_a_plugin_is_refused) {
  const std::string e = load_error(kFixturePluginDir / "not_a_plugin");
  BOOST_TEST(e.find("libnotaplugin.so: not a Lamina plugin") != std::string::npos);
  const std::string g = load_error(kFixturePluginDir / "garbage");
  BOOST_TEST(g.find("lamina_garbage.so: not a shared library (no ELF header)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_duplicate_type_names_both_files) {
  const std::string e = load_error(kFixturePluginDir / "duplicate_type", true);
  BOOST_TEST(e.find("layer type 'relu' is registered twice: by plugin 'activations' (") != std::string::npos);
  BOOST_TEST(e.find("lamina_activations.so) and by plugin 'duplicate_type' (") != std::string::npos);
  BOOST_TEST(e.find("lamina_fixture_duplicate_type.so)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_exception_in_registration_becomes_an_input_error) {
  const std::string e = load_error(kFixturePluginDir / "throwing_register");
  BOOST_TEST(e.find("lamina_fixture_throwing_register.so: plugin 'throwing_register' failed to register its types: "
                    "registration exploded") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_registration_that_throws_leaves_no_entry_and_the_registry_usable) {
  // The fixture adds `half_registered`, then throws. Before registration was staged, the entry
  // stayed with a factory in the unloaded library: the next use (or the registry's destructor)
  // crashed the process.
  Registry r;
  PluginLoader loader(r);
  loader.load_directory(kPluginDir);
  const auto before = r.list().size();
  BOOST_CHECK_THROW(loader.load_directory(kFixturePluginDir / "throwing_register"), InputError);
  BOOST_TEST(r.find(Kind::Layer, "half_registered") == nullptr);
  BOOST_TEST(r.list().size() == before);
  auto relu = r.create<Layer>(Config::parse("relu"));
  BOOST_TEST(relu != nullptr);
}

BOOST_AUTO_TEST_CASE(a_plugin_of_another_release_with_the_same_abi_loads) {
  // Built against "0.9.3": the fingerprint no longer names Lamina's version, so a minor or
  // patch release that keeps the ABI loads old plugins without a rebuild.
  Registry r;
  PluginLoader loader(r);
  loader.load_directory(kFixturePluginDir / "other_release");
  BOOST_REQUIRE(loader.loaded().size() == 1u);
  BOOST_TEST(loader.loaded()[0].lamina_version == "0.9.3");
  BOOST_TEST(r.find(Kind::Layer, "release_identity") != nullptr);
  BOOST_TEST(std::string(kFingerprint).find("lamina") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(missing_folders_are_errors) {
  BOOST_TEST(load_error("/nonexistent/plugins") ==
             "/nonexistent/plugins: plugin folder does not exist or is not a directory");
}

BOOST_AUTO_TEST_CASE(search_path_takes_the_environment_then_the_flags) {
  Registry r;
  PluginLoader loader(r);
  ::setenv("LAMINA_PLUGIN_PATH", (kFixturePluginDir / "second_valid").c_str(), 1);
  loader.load_search_path();
  ::unsetenv("LAMINA_PLUGIN_PATH");
  const TypeInfo* t = r.find(Kind::Layer, "scale2");
  BOOST_REQUIRE(t != nullptr);
  BOOST_TEST(t->provider.version == "2.3.4");

  Registry r2;
  PluginLoader loader2(r2);
  ::setenv("LAMINA_PLUGIN_PATH", "/nonexistent/env/dir", 1);
  BOOST_CHECK_THROW(loader2.load_search_path(), InputError);
  ::unsetenv("LAMINA_PLUGIN_PATH");
}

BOOST_AUTO_TEST_CASE(builtin_folder_is_beside_the_core_library) {
  BOOST_TEST(fs::equivalent(builtin_plugin_dir(), kPluginDir));
}
