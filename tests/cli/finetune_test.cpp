// Starting from a trained run (init_from) with frozen and scaled tensors (train.params), through
// `lamina train` on Fashion-MNIST slices: which tensors are loaded and kept, what is reported,
// strict, renaming by layer name, resume without the first run, a search that starts from it.
#define BOOST_TEST_MODULE cli_finetune
#include <boost/test/unit_test.hpp>

#include "runtime/safetensors.hpp"
#include "test_support.hpp"

using namespace lamina::test;

namespace {

// Trained first: features on classes 0-4.
const std::string kBase = R"(name: base
data: {source: fashion-mnist, train_limit: 600, test_limit: 200, classes: [0, 1, 2, 3, 4]}
layers:
  - {type: affine, units: 32, name: features}
  - {type: relu}
  - {type: affine, units: 5, name: head}
loss: softmax_cross_entropy
optimizer: {type: sgd, lr: 0.1}
train: {epochs: 2, batch_size: 50}
)";

// The same network on classes 5-9, started from the base run: `init` and `params` are the
// sections' bodies.
std::string transfer(const std::string& init, const std::string& params, int epochs = 2) {
  return "name: transfer\n"
         "data: {source: fashion-mnist, train_limit: 400, test_limit: 200, classes: [5, 6, 7, 8, 9]}\n"
         "init_from: " + init + "\n"
         "layers:\n"
         "  - {type: affine, units: 32, name: features}\n"
         "  - {type: relu}\n"
         "  - {type: affine, units: 5, name: head}\n"
         "loss: softmax_cross_entropy\n"
         "optimizer: {type: momentum, lr: 0.05}\n"
         "train: {epochs: " + std::to_string(epochs) + ", batch_size: 50" +
         (params.empty() ? "" : ", params: " + params) + "}\n";
}

// A tensor of a run's checkpoint: its shape and values.
std::pair<std::string, std::vector<float>> tensor(const fs::path& run, const std::string& name) {
  const auto f = lamina::read_safetensors(run / "model.safetensors");
  auto it = f.tensors.find(name);
  BOOST_TEST_REQUIRE((it != f.tensors.end()), name);
  const lamina::Tensor& t = it->second;
  return {t.shape().str(), std::vector<float>(t.data(), t.data() + t.size())};
}

bool same(const std::pair<std::string, std::vector<float>>& a, const std::pair<std::string, std::vector<float>>& b) {
  return a == b;
}

struct Trained {
  TempDir dir;
  Trained() {
    write_file(dir / "base.yaml", kBase);
    const auto r = run_lamina("train " + (dir / "base.yaml").string() + " --no-progress --threads 1 --out " +
                              (dir / "base").string());
    BOOST_TEST_REQUIRE(r.status == 0, r.output);
  }
  CommandResult train(const std::string& yaml, const std::string& out, const std::string& more = "") {
    write_file(dir / (out + ".yaml"), yaml);
    return run_lamina("train " + (dir / (out + ".yaml")).string() + " --no-progress --threads 1 --out " +
                      (dir / out).string() + more);
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(frozen_features_keep_the_run_s_values_bit_for_bit_and_the_head_trains) {
  Trained t;
  const auto r = t.train(transfer(t.dir.path().string() + "/base", "[{match: layers.features.*, trainable: false}]"),
                         "frozen");
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  BOOST_TEST(r.output.find("init_from " + (t.dir / "base").string() +
                           " (model.safetensors, epoch 2): 4 of this model's 4 tensors loaded") != std::string::npos,
             r.output);
  for (const char* name : {"layers.0.W", "layers.0.b"}) {
    BOOST_TEST(same(tensor(t.dir / "frozen", name), tensor(t.dir / "base", name)), name);
  }
  // The head started from the base run's head (same shape) and moved.
  BOOST_TEST(!same(tensor(t.dir / "frozen", "layers.2.W"), tensor(t.dir / "base", "layers.2.W")));
  // The run's model.yaml records both sections, the run's folder made absolute.
  const std::string yaml = read_file(t.dir / "frozen" / "model.yaml");
  BOOST_TEST(yaml.find("run: " + (t.dir / "base").string()) != std::string::npos, yaml);
  BOOST_TEST(yaml.find("match: layers.features.*") != std::string::npos, yaml);
  BOOST_TEST(yaml.find("trainable: false") != std::string::npos, yaml);
  // The frozen tensors are handed to no optimizer: it keeps no state for them.
  const auto opt = lamina::read_safetensors(t.dir / "frozen" / "optimizer.safetensors");
  bool head = false;
  for (const auto& [name, v] : opt.tensors) {
    BOOST_TEST(name.find("layers.0.") == std::string::npos, name);
    head = head || name.find("layers.2.W") != std::string::npos;
  }
  BOOST_TEST(head);

  // lamina graph marks them.
  const auto g = run_lamina("graph " + (t.dir / "frozen.yaml").string());
  BOOST_TEST_REQUIRE(g.status == 0, g.output);
  BOOST_TEST(g.output.find("[frozen]") != std::string::npos, g.output);
}

BOOST_AUTO_TEST_CASE(renamed_by_layer_name_shapes_that_differ_and_patterns_that_match_nothing_are_reported) {
  Trained t;
  // Another network: a dropout first, so the features are layers.1 here; a head of 3 classes.
  const std::string base = t.dir.path().string() + "/base";
  auto other = [&](const std::string& init, const std::string& params) {
    return "name: other\n"
           "data: {source: fashion-mnist, train_limit: 300, test_limit: 100, classes: [5, 6, 7]}\n"
           "init_from: " + init + "\n"
           "layers:\n"
           "  - {type: dropout, ratio: 0.1}\n"
           "  - {type: affine, units: 32, name: body}\n"
           "  - {type: relu}\n"
           "  - {type: affine, units: 3, name: head}\n"
           "loss: softmax_cross_entropy\n"
           "optimizer: {type: sgd, lr: 0.1}\n"
           "train: {epochs: 1, batch_size: 50, params: " + params + "}\n";
  };
  const std::string init = "{run: " + base + ", tensors: {\"layers.features.*\": \"layers.body.*\", \"layers.head.*\": "
                           "\"layers.head.*\", \"layers.nothing*\": \"layers.nothing*\"}}";
  const auto r = t.train(other(init, "[{match: layers.body.*, trainable: false}]"), "other");
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  BOOST_TEST(r.output.find("2 of this model's 4 tensors loaded") != std::string::npos, r.output);
  BOOST_TEST(r.output.find("\n  layers.3.W (layers.head.W): the run's layers.2.W is (32, 5) but this model's is (32, 3); "
                           "left at its initialization\n") != std::string::npos,
             r.output);
  BOOST_TEST(r.output.find("\n  'layers.nothing*' matches no tensor of the run") != std::string::npos, r.output);
  BOOST_TEST(same(tensor(t.dir / "other", "layers.1.W"), tensor(t.dir / "base", "layers.0.W")));
  BOOST_TEST(same(tensor(t.dir / "other", "layers.1.b"), tensor(t.dir / "base", "layers.0.b")));

  // strict: the same report is an error, before any run folder exists.
  const std::string strict = init.substr(0, init.size() - 1) + ", strict: true}";
  const auto s = t.train(other(strict, "[{match: layers.body.*, trainable: false}]"), "strict");
  BOOST_TEST(s.status == 2, s.output);
  BOOST_TEST(s.output.find("and strict is set:") != std::string::npos, s.output);
  BOOST_TEST(s.output.find("layers.3.b (layers.head.b): the run's layers.2.b is (5) but this model's is (3)") !=
                 std::string::npos,
             s.output);
  BOOST_TEST(!fs::exists(t.dir / "strict"));

  // Without `tensors`, by index name: this model's layers.1 is not the run's layers.1 (a relu,
  // no tensors), so nothing fits; every tensor is named as left at its initialization.
  const auto n = t.train(other(base, "[{match: layers.1.*, lr_mult: 0.1}]"), "plain");
  BOOST_TEST_REQUIRE(n.status == 0, n.output);
  BOOST_TEST(n.output.find("0 of this model's 4 tensors loaded") != std::string::npos, n.output);
  BOOST_TEST(n.output.find("\n  left at its initialization: layers.1.W (layers.body.W)\n") != std::string::npos,
             n.output);
  BOOST_TEST(n.output.find("\n  the run's layers.0.W (layers.features.W) has no tensor of that name here; not used") !=
                 std::string::npos,
             n.output);
  const auto g = run_lamina("graph " + (t.dir / "plain.yaml").string());
  BOOST_TEST(g.output.find("[W lr x0.1, b lr x0.1]") != std::string::npos, g.output);
}

BOOST_AUTO_TEST_CASE(resume_is_exact_without_the_run_it_started_from) {
  Trained t;
  const std::string init = "{run: " + t.dir.path().string() + "/base, weights: last}";
  const std::string params = "[{match: \"*\", lr_mult: 0.5}, {match: layers.head.*, lr_mult: 2}]";
  BOOST_TEST_REQUIRE(t.train(transfer(init, params, 3), "whole").status == 0);
  BOOST_TEST_REQUIRE(t.train(transfer(init, params, 1), "part").status == 0);
  fs::rename(t.dir / "base", t.dir / "gone");
  const auto r = run_lamina("train --resume " + (t.dir / "part").string() + " --epochs 3 --no-progress --threads 1");
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  BOOST_TEST(read_file(t.dir / "part" / "model.safetensors") == read_file(t.dir / "whole" / "model.safetensors"));
  BOOST_TEST(read_file(t.dir / "part" / "metrics.csv") == read_file(t.dir / "whole" / "metrics.csv"));
  // A new run from the moved run names the place it looked.
  const auto missing = t.train(transfer(init, params, 1), "again");
  BOOST_TEST(missing.status == 2);
  BOOST_TEST(missing.output.find("init_from: " + (t.dir / "base").string() + ": no such run folder") !=
                 std::string::npos,
             missing.output);
}

BOOST_AUTO_TEST_CASE(a_search_starts_every_trial_from_the_run) {
  Trained t;
  write_file(t.dir / "s.yaml", "model:\n"
                               "  data: {source: fashion-mnist, train_limit: 300, test_limit: 100, classes: [5, 6, 7, 8, 9],"
                               " validation_split: 0.2}\n"
                               "  init_from: " + t.dir.path().string() + "/base\n"
                               "  layers: [{type: affine, units: 32, name: features}, {type: relu}, {type: affine, units: 5}]\n"
                               "  loss: softmax_cross_entropy\n"
                               "  optimizer: {type: sgd, lr: 0.1}\n"
                               "  train: {batch_size: 50, params: [{match: layers.features.*, trainable: false}]}\n"
                               "space:\n"
                               "  optimizer.lr: {log_uniform: [1.0e-3, 1.0]}\n"
                               "trials: 2\n"
                               "epochs: 1\n");
  const auto r = run_lamina("search " + (t.dir / "s.yaml").string() + " --no-progress --out " + (t.dir / "search").string());
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  BOOST_TEST(r.output.find("4 of this model's 4 tensors loaded") != std::string::npos, r.output);
  // The best trial's frozen features are the run's.
  const auto best = run_lamina("train " + (t.dir / "search" / "best.yaml").string() +
                               " --epochs 1 --no-progress --threads 1 --out " + (t.dir / "best").string());
  BOOST_TEST_REQUIRE(best.status == 0, best.output);
  BOOST_TEST(same(tensor(t.dir / "best", "layers.0.W"), tensor(t.dir / "base", "layers.0.W")));
}
