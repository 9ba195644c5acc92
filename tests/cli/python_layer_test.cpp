// `type: python` through the real binary, the interpreter embedded in `lamina`: `lamina check`
// passes the suite's Python layers and fails the one with a wrong backward; a model with Python
// layers (one with parameters) trains, its Python parameters learn and are saved, a resumed
// run equals an uninterrupted one byte for byte, and `predict` rebuilds the layers from the
// run's model.yaml. The classes: tests/fixtures/python_layers/lamina_test_layers.py.
#define BOOST_TEST_MODULE cli_python_layer
#include <boost/test/unit_test.hpp>

#include "test_support.hpp"

using namespace lamina::test;

namespace {

const std::string kLayers = std::string(LAMINA_TEST_SOURCE_DIR) + "/tests/fixtures/python_layers";

std::string check(const std::string& cls, const std::string& extra = "") {
  return "check python --set module=lamina_test_layers --set class=" + cls + " --set path=" + kLayers + extra;
}

// Fashion-MNIST's first 300 images: affine 8 -> Swish (beta from the YAML) -> Scale (learnable
// w, b per feature) -> affine 10.
std::string model() {
  return "data: {source: fashion-mnist, train_limit: 300, test_limit: 200, validation_split: 0.2}\n"
         "layers:\n"
         "  - {type: affine, units: 8}\n"
         "  - {type: python, module: lamina_test_layers, class: Swish, path: " + kLayers + ", beta: 1.5}\n"
         "  - {type: python, module: lamina_test_layers, class: Scale, path: " + kLayers + "}\n"
         "  - {type: affine, units: 10}\n"
         "loss: softmax_cross_entropy\n"
         "optimizer: {type: momentum, lr: 0.05}\n"
         "train: {epochs: 2, batch_size: 50, seed: 3}\n";
}

std::vector<double> dump(const fs::path& run, const std::string& tensor) {
  const auto r = run_lamina("dump " + run.string() + " " + tensor);
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  std::vector<double> v;
  std::istringstream in(r.output);
  for (double x; in >> x;) v.push_back(x);
  return v;
}

}  // namespace

BOOST_AUTO_TEST_CASE(lamina_check_passes_python_layers_and_fails_a_wrong_backward) {
  for (const std::string& c : {check("Swish", " --set beta=1.5"), check("Scale", " --input-shape 2,3,3"),
                               check("Dense", " --set units=3")}) {
    const auto r = run_lamina(c);
    BOOST_TEST(r.status == 0, c << "\n" << r.output);
    BOOST_TEST(r.output.find("all 7 checks passed") != std::string::npos, r.output);
  }
  // WrongSwish's backward drops a term of the derivative: both gradient checks fail, and the
  // command says so with status 1 (a failed check, not bad input).
  const auto wrong = run_lamina(check("WrongSwish"));
  BOOST_TEST(wrong.status == 1, wrong.output);
  BOOST_TEST(wrong.output.find("FAIL gradients (train)") != std::string::npos, wrong.output);
  BOOST_TEST(wrong.output.find("FAIL gradients (eval)") != std::string::npos, wrong.output);
  BOOST_TEST(wrong.output.find("2 of 7 checks failed") != std::string::npos, wrong.output);
}

BOOST_AUTO_TEST_CASE(a_model_with_python_layers_trains_resumes_exactly_and_predicts) {
  TempDir dir;
  write_file(dir / "m.yaml", model());
  const auto full = run_lamina("train " + (dir / "m.yaml").string() + " --no-progress --out " + (dir / "full").string());
  BOOST_TEST_REQUIRE(full.status == 0, full.output);
  BOOST_TEST(full.output.find("test accuracy: 0.") != std::string::npos, full.output);
  // The Python layer's parameters are the run's tensors: saved, and moved from their start.
  const auto w = dump(dir / "full", "layers.2.w");
  const auto b = dump(dir / "full", "layers.2.b");
  BOOST_TEST(w.size() == 8u);
  BOOST_TEST(b.size() == 8u);
  int moved = 0;
  for (double v : b) moved += v != 0.0;  // b starts at zero
  BOOST_TEST(moved == 8, "every bias moved: " << moved);
  // The keys beyond module/class/path reach the class, and the run's model.yaml keeps them.
  const std::string copy = read_file(dir / "full" / "model.yaml");
  BOOST_TEST(copy.find("beta: 1.5") != std::string::npos, copy);
  BOOST_TEST(copy.find("path: " + kLayers) != std::string::npos, copy);

  // One epoch, then --resume to two: the same bytes as two at once.
  const auto first = run_lamina("train " + (dir / "m.yaml").string() + " --epochs 1 --no-progress --out " +
                                (dir / "half").string());
  BOOST_TEST_REQUIRE(first.status == 0, first.output);
  const auto resumed = run_lamina("train --resume " + (dir / "half").string() + " --epochs 2 --no-progress");
  BOOST_TEST_REQUIRE(resumed.status == 0, resumed.output);
  BOOST_TEST(read_file(dir / "half" / "model.safetensors") == read_file(dir / "full" / "model.safetensors"));

  // predict rebuilds the Python layers from the run's model.yaml, in another working folder.
  const auto p = run("cd / && " + kLamina.string() + " predict " + (dir / "full").string() + " --input " +
                     (kFashionDir / "t10k-images-idx3-ubyte.gz").string() + " --out " + (dir / "p.csv").string());
  BOOST_TEST_REQUIRE(p.status == 0, p.output);
  BOOST_TEST(count_lines(read_file(dir / "p.csv")) == 10001u);
}
