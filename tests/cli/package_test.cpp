// The Debian package: built with cpack from this build, unpacked into an empty root (dpkg -x),
// and used from there: its Depends (computed by dpkg-shlibdeps) name the package of every
// shared library the programs load, it recommends gnuplot-nox, and `lamina train` of the
// default model works from the unpacked tree alone (its own SDK library and plugin folder).
#define BOOST_TEST_MODULE cli_package
#include <boost/test/unit_test.hpp>
#include <set>
#include <sstream>

#include "test_support.hpp"

using namespace lamina::test;

namespace {
const fs::path kBuild = LAMINA_TEST_BUILD_DIR;

std::set<std::string> package_names(const std::string& field) {
  // "a (>= 1), b, c | d" -> {a, b, c, d}
  std::set<std::string> names;
  std::string name;
  bool in_version = false;
  for (char c : field + ",") {
    if (c == '(') in_version = true;
    if (c == ')') in_version = false;
    if (in_version || c == ')') continue;
    if (c == ',' || c == '|' || c == ' ' || c == '\n') {
      if (!name.empty()) names.insert(name);
      name.clear();
    } else {
      name += c;
    }
  }
  return names;
}
}  // namespace

BOOST_AUTO_TEST_CASE(the_deb_declares_what_it_needs_and_trains_from_an_empty_root) {
  TempDir dir;
  const auto pack = run("cpack -G DEB --config " + (kBuild / "CPackConfig.cmake").string() + " -B " +
                        (dir / "pkg").string());
  BOOST_TEST_REQUIRE(pack.status == 0, pack.output);
  fs::path deb;
  for (const auto& e : fs::directory_iterator(dir / "pkg")) {
    if (e.path().extension() == ".deb") deb = e.path();
  }
  BOOST_TEST_REQUIRE(!deb.empty(), pack.output);

  const auto depends = run("dpkg-deb -f " + deb.string() + " Depends");
  const auto recommends = run("dpkg-deb -f " + deb.string() + " Recommends");
  BOOST_TEST_REQUIRE(depends.status == 0, depends.output);
  BOOST_TEST(recommends.output.find("gnuplot-nox") != std::string::npos, recommends.output);
  const auto needed = package_names(depends.output);

  const fs::path root = dir / "root";
  const auto unpack = run("dpkg -x " + deb.string() + " " + root.string());
  BOOST_TEST_REQUIRE(unpack.status == 0, unpack.output);
  const fs::path lamina = root / "usr" / "bin" / "lamina";
  BOOST_TEST_REQUIRE(fs::exists(lamina));

  // Every library the program and each plugin load: from the package itself, or owned by a
  // Debian package that Depends names (libopenmpi3 was missing when Depends was written by hand).
  std::vector<fs::path> binaries{lamina};
  for (const auto& e : fs::directory_iterator(root / "usr" / "lib" / "lamina" / "plugins")) binaries.push_back(e.path());
  int checked = 0;
  for (const auto& bin : binaries) {
    const auto ldd = run("ldd " + bin.string());
    BOOST_TEST_REQUIRE(ldd.status == 0, ldd.output);
    BOOST_TEST(ldd.output.find("not found") == std::string::npos, bin << ":\n" << ldd.output);
    // What the file itself links (NEEDED), not what those libraries pull in.
    const auto needed_libs = run("readelf -d " + bin.string());
    std::istringstream lines(ldd.output);
    for (std::string line; std::getline(lines, line);) {
      const auto arrow = line.find(" => /");
      if (arrow == std::string::npos) continue;
      const std::string soname = line.substr(line.find_first_not_of(" \t"), arrow - line.find_first_not_of(" \t"));
      if (needed_libs.output.find("[" + soname + "]") == std::string::npos) continue;
      const std::string lib = line.substr(arrow + 4, line.find(" (", arrow) - arrow - 4);
      if (lib.starts_with(root.string())) continue;  // the package's own liblamina_sdk
      const auto owner = run("dpkg -S " + lib);
      const auto real_owner = owner.status == 0 ? owner : run("dpkg -S " + fs::canonical(lib).string());
      BOOST_TEST_REQUIRE(real_owner.status == 0, lib << ": " << real_owner.output);
      const std::string pkg = real_owner.output.substr(0, real_owner.output.find_first_of(":,"));
      if (pkg == "libc6") continue;  // essential
      BOOST_TEST(needed.count(pkg) == 1u, bin.filename() << " links " << lib << " of " << pkg
                                                         << ", which Depends does not name: " << depends.output);
      ++checked;
    }
  }
  BOOST_TEST(checked >= 5);
  if (run("readelf -d " + lamina.string()).output.find("[libmpi.so") != std::string::npos) {
    BOOST_TEST(needed.count("libopenmpi3") == 1u, depends.output);
  }

  // The default model trains from the unpacked tree: its plugins are found beside its SDK.
  const auto train = run(lamina.string() + " train " + (kModelsDir / "mlp.yaml").string() +
                         " --epochs 1 --set data.train_limit=600 --set data.test_limit=100 --no-progress --out " +
                         (dir / "run").string());
  BOOST_TEST(train.status == 0, train.output);
  BOOST_TEST(train.output.find("test accuracy: 0.") != std::string::npos, train.output);
  const auto plugins = run(lamina.string() + " plugins -v");
  BOOST_TEST(plugins.output.find((root / "usr" / "lib" / "lamina" / "plugins").string()) != std::string::npos,
             plugins.output);
}
