// Bad input through the real binary: each case exits 2 with one line naming the place, and
// leaves no run folder behind.
#define BOOST_TEST_MODULE cli_errors
#include <boost/test/unit_test.hpp>

#include "test_support.hpp"

using namespace lamina::test;

namespace {

const std::string kGood =
    "data: {source: idx, train_images: IMG, train_labels: LAB, test_images: IMG, test_labels: LAB}\n"
    "layers:\n  - {type: affine, units: 3}\nloss: {type: softmax_cross_entropy}\noptimizer: {type: sgd}\n"
    "train: {epochs: 1}\n";

std::string with_data(std::string yaml, const fs::path& img, const fs::path& lab) {
  for (auto [key, value] : {std::pair{std::string("IMG"), img.string()}, std::pair{std::string("LAB"), lab.string()}}) {
    for (auto p = yaml.find(key); p != std::string::npos; p = yaml.find(key)) yaml.replace(p, key.size(), value);
  }
  return yaml;
}

struct Case {
  TempDir dir;
  CommandResult result;

  // Runs `lamina ARGS` in the temp folder with model.yaml holding `yaml`.
  Case(const std::string& yaml, const std::string& args) {
    write_file(dir / "model.yaml", yaml);
    result = run("cd " + dir.path().string() + " && " + kLamina.string() + " " + args);
  }

  void expect(const std::string& message_part, int status = 2) {
    BOOST_TEST(result.status == status, result.output);
    BOOST_TEST(result.output.find(message_part) != std::string::npos,
               "expected '" << message_part << "' in: " << result.output);
    BOOST_TEST(count_lines(result.output) == 1u, "one line expected: " << result.output);
    BOOST_TEST(!fs::exists(dir / "runs"), "a run folder was left behind");
    BOOST_TEST(!fs::exists(dir / "out"), "a run folder was left behind");
  }
};

const fs::path kImg = kDataDir / "tiny-images-idx3-ubyte";
const fs::path kLab = kDataDir / "tiny-labels-idx1-ubyte";

}  // namespace

BOOST_AUTO_TEST_CASE(the_good_model_trains) {
  Case c(with_data(kGood, kImg, kLab), "train model.yaml --no-progress --out out");
  BOOST_TEST(c.result.status == 0, c.result.output);
}

BOOST_AUTO_TEST_CASE(malformed_yaml) {
  Case c("layers:\n  - {type: affine, units: 3\nloss: x\n", "train model.yaml --out out");
  c.expect("lamina train: error: model.yaml:3:");
  c.expect("YAML syntax error");
}

BOOST_AUTO_TEST_CASE(tabs_in_indentation) {
  Case c("layers:\n\t- {type: affine, units: 3}\n", "train model.yaml --out out");
  c.expect("model.yaml:2:2: YAML syntax error: illegal block entry (YAML does not allow tabs for indentation)");
}

BOOST_AUTO_TEST_CASE(unknown_layer_type) {
  Case c(with_data(kGood, kImg, kLab) + "", "train model.yaml --set layers.0.type=afine --out out");
  c.expect("--set layers.0.type=afine: layers.0.type: unknown layer type 'afine' (did you mean 'affine'?)");
  Case d("layers:\n  - {type: dense, units: 3}\nloss: softmax_cross_entropy\noptimizer: sgd\n", "train model.yaml");
  d.expect("model.yaml:2:12: layers.0.type: unknown layer type 'dense'");
}

BOOST_AUTO_TEST_CASE(unknown_key) {
  Case c("layers:\n  - {type: affine, unit: 3}\nloss: softmax_cross_entropy\noptimizer: sgd\n", "train model.yaml");
  c.expect("model.yaml:2:20: layers.0: unknown key 'unit' for layer 'affine' (did you mean 'units'?)");
}

BOOST_AUTO_TEST_CASE(a_loss_among_the_layers) {
  Case c(
      "layers:\n  - {type: affine, units: 3}\n  - {type: softmax_cross_entropy}\nloss: softmax_cross_entropy\n"
      "optimizer: sgd\n",
      "train model.yaml");
  c.expect("model.yaml:3:12: layers.1.type: 'softmax_cross_entropy' is a loss, not a layer; put it under `loss:`");
}

BOOST_AUTO_TEST_CASE(output_units_that_do_not_fit_the_labels) {
  Case c(with_data(kGood, kImg, kLab), "train model.yaml --set layers.0.units=2");
  c.expect(
      "layers.0 (affine): the last layer gives 2 scores per sample but the labels go up to 2 (3 classes); "
      "set its units to 3");
}

BOOST_AUTO_TEST_CASE(missing_data_file) {
  Case c(with_data(kGood, "/nonexistent/images", kLab), "train model.yaml --out out");
  c.expect("/nonexistent/images: no such file");
}

BOOST_AUTO_TEST_CASE(corrupt_idx_file) {
  TempDir data;
  write_file(data / "bad", "\x1f\x8b not really gzip");
  Case c(with_data(kGood, data / "bad", kLab), "train model.yaml --out out");
  c.expect((data / "bad").string() + ":");
  write_file(data / "junk", "JUNKJUNKJUNK");
  Case d(with_data(kGood, data / "junk", kLab), "train model.yaml --out out");
  d.expect((data / "junk").string() + ": not an IDX file (bad magic number 4a 55 4e 4b)");
}

BOOST_AUTO_TEST_CASE(truncated_idx_file) {
  TempDir data;
  write_file(data / "cut", read_file(kImg).substr(0, 30));
  Case c(with_data(kGood, data / "cut", kLab), "train model.yaml --out out");
  c.expect((data / "cut").string() + ": truncated: the header declares 36 bytes of data, the file holds 14");
}

BOOST_AUTO_TEST_CASE(missing_model_file) {
  Case c("", "train nothere.yaml");
  c.expect("lamina train: error: nothere.yaml: cannot open model file: No such file or directory");
}

BOOST_AUTO_TEST_CASE(unknown_flag) {
  Case c(with_data(kGood, kImg, kLab), "train model.yaml --epoch 3");
  c.expect("lamina train: unrecognised option '--epoch'");
  c.expect("see `lamina train --help`");
}

BOOST_AUTO_TEST_CASE(bad_flag_values) {
  Case c(with_data(kGood, kImg, kLab), "train model.yaml --threads 0");
  c.expect("--threads must be between 1 and 1024");
  Case d(with_data(kGood, kImg, kLab), "train model.yaml --epochs abc");
  d.expect("the argument ('abc') for option '--epochs' is invalid");
  Case e(with_data(kGood, kImg, kLab), "train");
  e.expect("missing the model file");
  Case f(with_data(kGood, kImg, kLab), "train model.yaml --set optimizer.lr=-1");
  f.expect("--set optimizer.lr=-1: optimizer.lr: expected a number > 0, found '-1'");
  Case g(with_data(kGood, kImg, kLab), "frobnicate");
  g.expect("unknown command 'frobnicate'");
  Case h(with_data(kGood, kImg, kLab), "train model.yaml other.yaml");
  h.expect("lamina train: too many positional options");
}

BOOST_AUTO_TEST_CASE(unwritable_output_folder) {
  Case c(with_data(kGood, kImg, kLab), "train model.yaml --out /proc/lamina-cannot-write-here");
  c.expect("--out /proc/lamina-cannot-write-here: cannot create the run folder");
}

BOOST_AUTO_TEST_CASE(a_bad_plugin_folder) {
  Case c(with_data(kGood, kImg, kLab),
         "train model.yaml --plugin-dir " + (kFixturePluginDir / "wrong_abi").string() + " --out out");
  c.expect("lamina_fixture_wrong_abi.so: plugin ABI version");
  Case d(with_data(kGood, kImg, kLab), "plugins --plugin-dir " + (kFixturePluginDir / "not_a_plugin").string());
  d.expect("libnotaplugin.so: not a Lamina plugin");
}

BOOST_AUTO_TEST_CASE(model_files_that_are_not_files) {
  Case c("", "train /dev/zero");
  c.expect("/dev/zero: not a regular file");
  Case d("", "train .");
  d.expect(".: is a directory, not a model file");
}

BOOST_AUTO_TEST_CASE(a_model_name_that_would_escape_the_runs_folder) {
  Case c(with_data("name: ../../etc\n" + kGood, kImg, kLab), "train model.yaml");
  c.expect("model.yaml:1:7: name: expected a name of letters, digits, '_', '-' and '.' (not first), found '../../etc'");
}

BOOST_AUTO_TEST_CASE(an_empty_test_set) {
  TempDir data;
  write_file(data / "img", std::string("\0\0\x08\x03\0\0\0\0\0\0\0\x02\0\0\0\x03", 16));
  write_file(data / "lab", std::string("\0\0\x08\x01\0\0\0\0", 8));
  Case c("data: {source: idx, train_images: " + kImg.string() + ", train_labels: " + kLab.string() +
             ", test_images: " + (data / "img").string() + ", test_labels: " + (data / "lab").string() + "}\n" +
             kGood.substr(kGood.find("layers:")),
         "train model.yaml");
  c.expect((data / "img").string() + ": no test samples");
}

BOOST_AUTO_TEST_CASE(a_plugin_that_throws_is_reported_naming_the_layer) {
  const std::string plugin = " --plugin-dir " + (kFixturePluginDir / "second_valid").string();
  auto model = [](const std::string& at) {
    return with_data(kGood.substr(0, kGood.find("layers:")), kImg, kLab) + "layers:\n  - {type: explode, at: " + at +
           "}\n  - {type: affine, units: 3}\nloss: softmax_cross_entropy\noptimizer: sgd\n";
  };
  Case factory(model("factory"), "train model.yaml" + plugin);
  factory.expect("model.yaml:3:5: layer 'explode' from plugin 'second_valid' (");
  factory.expect("failed to build: boom in the factory");
  Case build(model("build"), "train model.yaml" + plugin);
  build.expect("layers.0 (explode): build failed in plugin code: boom in build");
  for (const char* stage : {"forward", "backward"}) {
    // The run folder exists by then (its files are complete); the message still names the layer.
    TempDir dir;
    write_file(dir / "model.yaml", model(stage));
    const auto r =
        run(kLamina.string() + " train " + (dir / "model.yaml").string() + plugin + " --out " + (dir / "run").string());
    BOOST_TEST(r.status == 2, r.output);
    BOOST_TEST(r.output.find("layers.0 (explode): " + std::string(stage) + " failed in plugin code: boom in " +
                             stage) != std::string::npos,
               r.output);
  }
}
