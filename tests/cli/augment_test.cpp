// data.augment end to end through the real binary: it changes training batches and nothing
// else (validation and test numbers of an untrained model are those without it), the same seed
// gives the same run at any thread count, --resume continues exactly, mixup trains with
// softmax_cross_entropy's soft targets, and the kinds a loss or metric cannot take are refused
// before any run folder exists.
#define BOOST_TEST_MODULE cli_augment
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "test_support.hpp"

using namespace lamina::test;

namespace {

const std::string kCrops = "[{type: random_crop, padding: 2}, {type: hflip}, {type: cutout, size: 6}]";

// The CNN of models/cnn.yaml, narrowed (4 filters), on 600 training images.
CommandResult train(const fs::path& out, const std::string& augment, int epochs, const std::string& extra = "") {
  std::string flags = " --set data.train_limit=600 --set data.test_limit=200"
                      " --set layers.0.filters=4 --set layers.4.filters=4 --no-progress --epochs " +
                      std::to_string(epochs);
  if (!augment.empty()) flags += " --set 'data.augment=" + augment + "'";
  return run_lamina("train " + (kModelsDir / "cnn.yaml").string() + flags + extra + " --out " + out.string());
}

nlohmann::json last_epoch(const fs::path& run) {
  return nlohmann::json::parse(read_file(run / "metrics.json"))["epochs"].back();
}

}  // namespace

BOOST_AUTO_TEST_CASE(augmentation_changes_training_batches_and_never_evaluation) {
  TempDir dir;
  // The MLP (no batch statistics) at a learning rate of ~0: the weights stay at their initial
  // values, so any difference in the validation or test numbers would be the augmentation
  // reaching an evaluation batch. The train numbers are the running ones, over the batches the
  // model was trained on.
  const std::string noisy = "[{type: noise, std: 100}, {type: hflip, p: 1}]";
  auto mlp = [&](const fs::path& out, const std::string& augment) {
    std::string flags = " --set data.train_limit=600 --set data.test_limit=200 --set optimizer.lr=1e-30 --epochs 1"
                        " --set train.train_metrics=running --no-progress";
    if (!augment.empty()) flags += " --set 'data.augment=" + augment + "'";
    return run_lamina("train " + (kModelsDir / "mlp.yaml").string() + flags + " --out " + out.string());
  };
  BOOST_TEST_REQUIRE(mlp(dir / "plain", "").status == 0);
  const auto r = mlp(dir / "noisy", noisy);
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  const auto plain = last_epoch(dir / "plain"), aug = last_epoch(dir / "noisy");
  BOOST_TEST(plain["train"]["loss"].get<double>() != aug["train"]["loss"].get<double>());
  BOOST_TEST(plain["validation"]["loss"].get<double>() == aug["validation"]["loss"].get<double>());
  BOOST_TEST(plain["test"]["loss"].get<double>() == aug["test"]["loss"].get<double>());
  // And predict: the same scores from both runs.
  const std::string input = " --input " + (kFashionDir / "t10k-images-idx3-ubyte.gz").string();
  const auto p1 = run_lamina("predict " + (dir / "plain").string() + input + " --out " + (dir / "p1.csv").string());
  const auto p2 = run_lamina("predict " + (dir / "noisy").string() + input + " --out " + (dir / "p2.csv").string());
  BOOST_TEST_REQUIRE(p1.status == 0, p1.output);
  BOOST_TEST_REQUIRE(p2.status == 0, p2.output);
  BOOST_TEST(read_file(dir / "p1.csv") == read_file(dir / "p2.csv"));
  // The run's model file keeps the list, with every key resolved.
  const std::string yaml = read_file(dir / "noisy" / "model.yaml");
  BOOST_TEST(yaml.find("augment:") != std::string::npos, yaml);
  BOOST_TEST(yaml.find("std: 100") != std::string::npos, yaml);
}

// (That the augmentations' draws do not depend on the thread count is augmentations_test's.)
BOOST_AUTO_TEST_CASE(the_same_seed_gives_the_same_run_and_resume_continues_exactly) {
  TempDir dir;
  BOOST_TEST_REQUIRE(train(dir / "plain", "", 2, " --threads 1").status == 0);
  BOOST_TEST_REQUIRE(train(dir / "one", kCrops, 2, " --threads 1").status == 0);
  BOOST_TEST_REQUIRE(train(dir / "again", kCrops, 2, " --threads 1").status == 0);
  BOOST_TEST((read_file(dir / "one" / "model.safetensors") == read_file(dir / "again" / "model.safetensors")));
  BOOST_TEST(read_file(dir / "one" / "metrics.csv") != read_file(dir / "plain" / "metrics.csv"));
  const auto seed = train(dir / "seed", kCrops, 2, " --threads 1 --set train.seed=99");
  BOOST_TEST_REQUIRE(seed.status == 0, seed.output);
  BOOST_TEST(read_file(dir / "one" / "metrics.csv") != read_file(dir / "seed" / "metrics.csv"));

  BOOST_TEST_REQUIRE(train(dir / "part", kCrops, 1, " --threads 1").status == 0);
  const auto r = run_lamina("train --resume " + (dir / "part").string() + " --epochs 2 --threads 1 --no-progress");
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  for (const char* f : {"metrics.csv", "model.safetensors", "optimizer.safetensors", "model.yaml"}) {
    BOOST_TEST(read_file(dir / "part" / f) == read_file(dir / "one" / f), f);
  }
}

BOOST_AUTO_TEST_CASE(mixup_trains_with_soft_targets_and_a_loss_that_cannot_take_them_is_refused) {
  TempDir dir;
  const auto r = train(dir / "mix", "[{type: mixup, alpha: 0.4}]", 2);
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  const auto e = last_epoch(dir / "mix");
  BOOST_TEST(e["test"]["accuracy"].get<double>() > 0.3);  // it learns: 10 classes, chance is 0.1
  BOOST_TEST(e["train"].contains("accuracy"));            // accuracy takes the mixed rows' argmax

  // Measured on the training batches themselves, a metric must take what mixup makes of them.
  const auto bad = train(dir / "bad", "[{type: mixup}]", 1,
                         " --set 'metrics=[accuracy, macro_f1]' --set train.train_metrics=running");
  BOOST_TEST(bad.status == 2);
  BOOST_TEST(bad.output.find("metric 'macro_f1' does not measure the class_probabilities targets that data.augment "
                             "makes") != std::string::npos,
             bad.output);
  BOOST_TEST(!fs::exists(dir / "bad"));

  // An image augmentation on flat samples (a CSV's rows) names itself and the shape.
  write_file(dir / "t.csv", "y,a,b\n0,1,2\n1,3,4\n0,5,6\n1,7,8\n");
  write_file(dir / "flat.yaml",
             "data: {source: csv, train: t.csv, test: t.csv, augment: [{type: random_crop}]}\n"
             "layers: [{type: affine, units: 2}]\nloss: softmax_cross_entropy\noptimizer: sgd\n");
  const auto flat = run_lamina("train " + (dir / "flat.yaml").string() + " --no-progress --out " + (dir / "flat").string());
  BOOST_TEST(flat.status == 2);
  BOOST_TEST(flat.output.find("random_crop needs images") != std::string::npos, flat.output);
  BOOST_TEST(!fs::exists(dir / "flat"));
}

BOOST_AUTO_TEST_CASE(check_passes_the_built_in_augmentations_and_their_neutral_settings_are_the_identity) {
  for (const char* type : {"random_crop", "random_shift", "hflip", "noise", "cutout", "mixup"}) {
    const auto r = run_lamina(std::string("check ") + type);
    BOOST_TEST(r.status == 0, type << ": " << r.output);
  }
  const auto id = run_lamina("check hflip --set p=0");
  BOOST_TEST(id.status == 0, id.output);
  BOOST_TEST(id.output.find("PASS identity at its neutral setting") != std::string::npos, id.output);
  const auto shaped = run_lamina("check random_crop --input-shape 3,8,6 --set padding=1");
  BOOST_TEST(shaped.status == 0, shaped.output);
  BOOST_TEST(shaped.output.find("(4, 3, 8, 6)") != std::string::npos, shaped.output);
}
