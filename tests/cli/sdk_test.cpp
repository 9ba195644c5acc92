// The SDK from a user's side: install Lamina into a temporary prefix, build each example plugin
// out of tree with find_package(Lamina) against that prefix only, and train a model that uses
// it, loaded through LAMINA_PLUGIN_PATH, without rebuilding Lamina.
#define BOOST_TEST_MODULE cli_sdk
#include <boost/test/unit_test.hpp>
#include <algorithm>
#include <nlohmann/json.hpp>

#include <sstream>

#include "test_support.hpp"

using namespace lamina::test;

namespace {
const fs::path kSource = LAMINA_TEST_SOURCE_DIR;
const fs::path kBuild = LAMINA_TEST_BUILD_DIR;

// A compiler warning about the example's own code. The linker's notes about libasan's use of
// tmpnam (a sanitized build links the sanitizer into the host) are the toolchain's, not ours.
bool compiler_warned(const std::string& output) {
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("warning") != std::string::npos && line.find("libasan") == std::string::npos) return true;
  }
  return false;
}
// Copies examples/<example> (so nothing of the source tree is in reach) and builds it with
// find_package(Lamina) against `prefix` alone; returns the build folder.
fs::path build_example(const TempDir& dir, const std::string& example, const fs::path& prefix) {
  const std::string name = fs::path(example).filename().string();
  const fs::path src = dir / (name + "-src"), build = dir / (name + "-build");
  fs::copy(kSource / "examples" / example, src, fs::copy_options::recursive);
  const auto configure = run("cmake -S " + src.string() + " -B " + build.string() +
                             " -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=" + prefix.string());
  BOOST_TEST_REQUIRE(configure.status == 0, configure.output);
  const auto compile = run("cmake --build " + build.string());
  BOOST_TEST_REQUIRE(compile.status == 0, compile.output);
  BOOST_TEST(!compiler_warned(compile.output), compile.output);
  return build;
}
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
  for (const char* example : {"leaky_relu", "elastic_net", "target_accuracy", "gaussian_blobs", "weighted_sum",
                              "color_jitter", "swish", "conv1d"}) {
    BOOST_TEST_CONTEXT(example) {
      const fs::path build = build_example(dir, std::string("plugins/") + example, prefix);
      const fs::path src = dir / (std::string(example) + "-src");
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
  // The C++ port of examples/python_layer/swish.py computes what the Python class did: a run
  // trained with `type: python` (installed lamina, embedded interpreter) predicts the same
  // probabilities when its model.yaml names the port instead (Swish has no parameters, so the
  // weights file serves both).
  {
    const std::string installed = (prefix / "bin" / "lamina").string();
    const auto py_run = run(installed + " train " + (kSource / "examples" / "python_layer" / "model.yaml").string() +
                            " --epochs 1 --set data.train_limit=1000 --set data.test_limit=200 --no-progress --out " +
                            (dir / "swish-py").string());
    BOOST_TEST_REQUIRE(py_run.status == 0, py_run.output);
    fs::copy(dir / "swish-py", dir / "swish-cpp", fs::copy_options::recursive);
    std::istringstream lines(read_file(dir / "swish-py" / "model.yaml"));
    std::string ported;
    for (std::string line; std::getline(lines, line);) {
      if (line.find("type: python") != std::string::npos) line.replace(line.find("python"), 6, "swish");
      const bool python_key = line.starts_with("    module:") || line.starts_with("    class:") ||
                              line.starts_with("    path:");
      if (!python_key) ported += line + "\n";
    }
    BOOST_TEST_REQUIRE(ported.find("type: swish") != std::string::npos, ported);
    write_file(dir / "swish-cpp" / "model.yaml", ported);
    const std::string input = " --input " + (kFashionDir / "t10k-images-idx3-ubyte.gz").string();
    const auto p_py = run(installed + " predict " + (dir / "swish-py").string() + input + " --out " +
                          (dir / "py.csv").string());
    const auto p_cpp = run("LAMINA_PLUGIN_PATH=" + (dir / "swish-build" / "lamina-plugins").string() + " " + installed +
                           " predict " + (dir / "swish-cpp").string() + input + " --out " + (dir / "cpp.csv").string());
    BOOST_TEST_REQUIRE(p_py.status == 0, p_py.output);
    BOOST_TEST_REQUIRE(p_cpp.status == 0, p_cpp.output);
    const auto a = csv_numbers(read_file(dir / "py.csv")), b = csv_numbers(read_file(dir / "cpp.csv"));
    BOOST_TEST_REQUIRE(a.size() == 10000u);
    BOOST_TEST_REQUIRE(b.size() == a.size());
    double worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      for (std::size_t j = 2; j < a[i].size(); ++j) worst = std::max(worst, std::abs(a[i][j] - b[i][j]));
    }
    BOOST_TEST(worst <= 2e-6, "max |python - C++| probability " << worst);
  }
  // The third-party callback ends a run of up to 20 epochs once its target is reached.
  const auto until = run("LAMINA_PLUGIN_PATH=" + (dir / "target_accuracy-build" / "lamina-plugins").string() + " " +
                         (prefix / "bin" / "lamina").string() + " train " +
                         (dir / "target_accuracy-src" / "model.yaml").string() + " --no-progress --out " +
                         (dir / "until").string());
  BOOST_TEST(until.status == 0, until.output);
  BOOST_TEST(until.output.find(": target_accuracy: validation accuracy 0.") != std::string::npos, until.output);
  BOOST_TEST(read_file(dir / "until" / "run.json").find("\"stopped_early\"") != std::string::npos);
  // The third-party data source passes the data source checks, and its seed draws its samples.
  const std::string blobs = "LAMINA_PLUGIN_PATH=" + (dir / "gaussian_blobs-build" / "lamina-plugins").string() + " " +
                            (prefix / "bin" / "lamina").string();
  const auto check = run(blobs + " check gaussian_blobs --set num_classes=5 --set features=4");
  BOOST_TEST(check.status == 0, check.output);
  BOOST_TEST(check.output.find("600 samples of (4), float as values, classes 0..4") != std::string::npos, check.output);
  const auto train_seeded = [&](int seed, const std::string& out) {
    const auto r = run(blobs + " train " + (dir / "gaussian_blobs-src" / "model.yaml").string() +
                       " --epochs 1 --no-progress --set data.seed=" + std::to_string(seed) + " --out " +
                       (dir / out).string());
    BOOST_TEST(r.status == 0, r.output);
    return read_file(dir / out / "model.safetensors");
  };
  // The third-party augmentation passes the augmentation checks (one seed gives one batch, the
  // shape and targets are kept, brightness 0 and contrast 0 are the identity) and trained above.
  const auto jitter = run("LAMINA_PLUGIN_PATH=" + (dir / "color_jitter-build" / "lamina-plugins").string() + " " +
                          (prefix / "bin" / "lamina").string() + " check color_jitter");
  BOOST_TEST(jitter.status == 0, jitter.output);
  BOOST_TEST(jitter.output.find("check augmentation color_jitter") != std::string::npos, jitter.output);
  const auto neutral = run("LAMINA_PLUGIN_PATH=" + (dir / "color_jitter-build" / "lamina-plugins").string() + " " +
                           (prefix / "bin" / "lamina").string() + " check color_jitter --set brightness=0 --set contrast=0");
  BOOST_TEST(neutral.status == 0, neutral.output);
  BOOST_TEST(neutral.output.find("identity at its neutral setting") != std::string::npos, neutral.output);
  BOOST_TEST(read_file(dir / "color_jitter-run" / "run.json").find("color_jitter") != std::string::npos);
  // The third-party sequence layer (a 1-D convolution over time) passes `lamina check` on
  // sequences, both paddings, and refuses a flat sample at build.
  const std::string conv1d = "LAMINA_PLUGIN_PATH=" + (dir / "conv1d-build" / "lamina-plugins").string() + " " +
                             (prefix / "bin" / "lamina").string() + " check conv1d --set filters=3 --input-shape 6,2";
  for (const char* padding : {"same", "valid"}) {
    const auto c = run(conv1d + " --set padding=" + padding);
    BOOST_TEST(c.status == 0, c.output);
    BOOST_TEST(c.output.find("all 7 checks passed") != std::string::npos, c.output);
  }
  const auto flat = run(conv1d.substr(0, conv1d.find(" --input-shape")));
  BOOST_TEST(flat.status == 2, flat.output);
  BOOST_TEST(flat.output.find("conv1d needs samples of (T, D)") != std::string::npos, flat.output);
  // The third-party merge layer passes `lamina check` and learns its weights in a graph.
  const std::string merge = "LAMINA_PLUGIN_PATH=" + (dir / "weighted_sum-build" / "lamina-plugins").string() + " " +
                            (prefix / "bin" / "lamina").string();
  const auto merge_check = run(merge + " check weighted_sum --input-shape 2,3,3");
  BOOST_TEST(merge_check.status == 0, merge_check.output);
  BOOST_TEST(merge_check.output.find("check merge weighted_sum") != std::string::npos, merge_check.output);
  const auto w = run(merge + " dump " + (dir / "weighted_sum-run").string() + " layers.3.w");
  BOOST_TEST_REQUIRE(w.status == 0, w.output);
  // `dump` prints one value a line, as few digits as round-trip ("1" for one): compared as
  // numbers, the learned weights start at 1 and must have moved.
  std::istringstream values(w.output);
  int count = 0, moved = 0;
  for (double v; values >> v; ++count) moved += std::abs(v - 1.0) > 1e-6;
  BOOST_TEST(count == 2, w.output);
  BOOST_TEST(moved == count, "the weights moved from 1: " << w.output);
  // The example layer and merge export themselves: OpenCV runs the ONNX files to the
  // probabilities of `lamina predict` (tests/python/onnx_export_check.py).
  for (const char* example : {"leaky_relu", "weighted_sum"}) {
    const auto exported = run("/usr/bin/python3 " + (kSource / "tests" / "python" / "onnx_export_check.py").string() +
                              " " + (prefix / "bin" / "lamina").string() + " " +
                              (dir / (std::string(example) + "-src") / "model.yaml").string() + " --plugin-dir " +
                              (dir / (std::string(example) + "-build") / "lamina-plugins").string() +
                              " --samples 50 --train-limit 200");
    BOOST_TEST(exported.status == 0, exported.output);
    BOOST_TEST(exported.output.find("max |OpenCV - lamina predict| = ") != std::string::npos, exported.output);
  }
  // A third-party loss and metric: both pass `lamina check`, train a regression, and rank a
  // search by the metric, minimized because the plugin says lower is better.
  {
    const fs::path build = build_example(dir, "plugins/quantile", prefix);
    const fs::path src = dir / "quantile-src";
    const std::string q = "LAMINA_PLUGIN_PATH=" + (build / "lamina-plugins").string() + " " +
                          (prefix / "bin" / "lamina").string();
    const auto loss_check = run(q + " check quantile --input-shape 3");
    BOOST_TEST(loss_check.status == 0, loss_check.output);
    BOOST_TEST(loss_check.output.find("gradients, regression targets") != std::string::npos, loss_check.output);
    const auto metric_check = run(q + " check pinball");
    BOOST_TEST(metric_check.status == 0, metric_check.output);
    BOOST_TEST(metric_check.output.find("regression targets: sums add up") != std::string::npos, metric_check.output);
    const auto train = run(q + " train " + (src / "model.yaml").string() + " --no-progress --out " +
                           (dir / "quantile-run").string());
    BOOST_TEST_REQUIRE(train.status == 0, train.output);
    BOOST_TEST(train.output.find("test pinball: 0.") != std::string::npos, train.output);
    BOOST_TEST(read_file(dir / "quantile-run" / "metrics.csv")
                   .starts_with("epoch,train_loss,train_pinball,train_mae,penalty,val_loss,val_pinball,val_mae,"));
    const auto search = run(q + " search " + (src / "search.yaml").string() + " --out " + (dir / "quantile-search").string());
    BOOST_TEST_REQUIRE(search.status == 0, search.output);
    const auto header = nlohmann::json::parse(read_file(dir / "quantile-search" / "journal.jsonl").substr(
        0, read_file(dir / "quantile-search" / "journal.jsonl").find('\n')));
    BOOST_TEST(header["metric"] == "val_pinball");
    BOOST_TEST(header["higher_is_better"] == false);
    // results.csv ranks the trials best first: the smallest pinball loss first.
    std::istringstream results(read_file(dir / "quantile-search" / "results.csv"));
    std::string line;
    std::getline(results, line);
    // The score column, found by name: the space's columns follow it.
    std::vector<std::string> columns;
    std::istringstream names(line);
    for (std::string name; std::getline(names, name, ',');) columns.push_back(name);
    const long at = std::find(columns.begin(), columns.end(), "val_pinball") - columns.begin();
    BOOST_TEST_REQUIRE(at < static_cast<long>(columns.size()), line);
    std::vector<double> scores;
    while (std::getline(results, line)) {
      std::istringstream cells(line);
      std::string cell;
      for (long k = 0; k <= at; ++k) std::getline(cells, cell, ',');
      scores.push_back(std::stod(cell));
    }
    BOOST_TEST_REQUIRE(scores.size() == 6u);
    BOOST_TEST(std::is_sorted(scores.begin(), scores.end()));
    BOOST_TEST(scores.front() < scores.back());
  }
  const std::string once = train_seeded(1, "blobs-a");
  BOOST_TEST(train_seeded(1, "blobs-b") == once);
  BOOST_TEST(train_seeded(2, "blobs-c") != once);
}

BOOST_AUTO_TEST_CASE(a_host_program_built_against_the_installed_package_reproduces_predict) {
  TempDir dir;
  const fs::path prefix = dir / "prefix";
  const auto install = run("cmake --install " + kBuild.string() + " --prefix " + prefix.string());
  BOOST_TEST_REQUIRE(install.status == 0, install.output);
  BOOST_TEST(fs::exists(prefix / "include" / "lamina" / "embed.hpp"));
  // The embedding library exports its API and nothing of the runtime behind it.
  const auto symbols = run("nm -D --defined-only -C " + (prefix / "lib" / "liblamina_embed.so").string());
  BOOST_TEST(symbols.output.find("lamina::embed::Host::load_run") != std::string::npos, symbols.output);
  BOOST_TEST(symbols.output.find("lamina::Trainer") == std::string::npos, symbols.output);
  BOOST_TEST(symbols.output.find("lamina::Registry") == std::string::npos, symbols.output);
  BOOST_TEST(symbols.output.find("lamina::detail") == std::string::npos, symbols.output);

  const fs::path build = build_example(dir, "embed/predict_host", prefix);

  // A trained run (with BatchNorm and dropout: eval mode matters) and raw pixel rows.
  const std::string lamina = (prefix / "bin" / "lamina").string();
  const auto train = run(lamina + " train " + (kModelsDir / "mlp.yaml").string() +
                         " --epochs 1 --set data.train_limit=1000 --set data.test_limit=100 --set "
                         "'layers.1={type: batchnorm}' --set 'layers.3={type: dropout, ratio: 0.3}' --no-progress "
                         "--out " + (dir / "run").string());
  BOOST_TEST_REQUIRE(train.status == 0, train.output);
  std::string csv;
  for (int i = 0; i < 20; ++i) {
    for (int k = 0; k < 784; ++k) {
      if (k > 0) csv += ',';
      csv += std::to_string((k * (2 * i + 1) + 37 * i) % 256);
    }
    csv += "\n";
  }
  write_file(dir / "x.csv", csv);
  const auto expected =
      run(lamina + " predict " + (dir / "run").string() + " --input " + (dir / "x.csv").string() + " --out " +
          (dir / "lamina.csv").string());
  BOOST_TEST_REQUIRE(expected.status == 0, expected.output);
  const auto host = run((build / "predict_host").string() + " " + (dir / "run").string() + " " +
                        (dir / "x.csv").string() + " > " + (dir / "host.csv").string());
  BOOST_TEST_REQUIRE(host.status == 0, host.output);

  const auto a = csv_numbers(read_file(dir / "lamina.csv")), b = csv_numbers(read_file(dir / "host.csv"));
  BOOST_TEST_REQUIRE(a.size() == 20u);
  BOOST_TEST_REQUIRE(b.size() == 20u);
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    BOOST_TEST_REQUIRE(a[i].size() == b[i].size());
    BOOST_TEST(a[i][1] == b[i][1], "row " << i << ": class");
    for (std::size_t j = 2; j < a[i].size(); ++j) worst = std::max(worst, std::abs(a[i][j] - b[i][j]));
  }
  BOOST_TEST(worst <= 1.5e-6);  // both print 6 decimals

  // Bad input reaches the host as a Lamina error, exit 2, not a crash.
  const auto bad = run((build / "predict_host").string() + " " + dir.path().string() + " " + (dir / "x.csv").string());
  BOOST_TEST(bad.status == 2, bad.output);
  BOOST_TEST(bad.output.find("not a run folder (no model.yaml)") != std::string::npos, bad.output);
}
