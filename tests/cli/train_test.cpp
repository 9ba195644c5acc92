// `lamina train` end to end, through the real binary: real Fashion-MNIST slices, repeatability,
// and the run folder.
#define BOOST_TEST_MODULE cli_train
#include <boost/test/unit_test.hpp>
#include <lamina/rng.hpp>
#include <nlohmann/json.hpp>

#include "test_support.hpp"

using namespace lamina::test;

namespace {

const std::string kSlice = " --set data.train_limit=3000 --set data.test_limit=1000 --epochs 3 --no-progress";

double final_test_accuracy(const fs::path& run_dir) {
  const auto j = nlohmann::json::parse(read_file(run_dir / "metrics.json"));
  return j["epochs"].back()["test"]["accuracy"].get<double>();
}

}  // namespace

BOOST_AUTO_TEST_CASE(trains_the_default_model_on_a_slice_of_fashion_mnist) {
  TempDir dir;
  const auto r = run_lamina("train " + (kModelsDir / "mlp.yaml").string() + kSlice + " --threads 1 --out " +
                            (dir / "run").string());
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  BOOST_TEST(r.output.find("epoch 3/3") != std::string::npos);
  BOOST_TEST(r.output.find("test accuracy: 0.") != std::string::npos);
  // 3000 samples, 3 epochs: far above chance (0.1); the full run reaches ~0.88.
  BOOST_TEST(final_test_accuracy(dir / "run") > 0.70);
  for (const char* f : {"metrics.csv", "metrics.json", "model.yaml", "run.json"}) {
    BOOST_TEST(fs::exists(dir / "run" / f), f);
  }
  const std::string csv = read_file(dir / "run" / "metrics.csv");
  BOOST_TEST(csv.starts_with("epoch,train_loss,train_accuracy,penalty,val_loss,val_accuracy,test_loss,test_accuracy\n"));
  BOOST_TEST(count_lines(csv) == 4u);
  // Validation comes from the training slice: 10% of 3000.
  BOOST_TEST(r.output.find("on 2700 samples (+300 validation), testing on 1000") != std::string::npos);
  // The resolved model is itself a valid model file: it trains again.
  const auto again = run_lamina("train " + (dir / "run" / "model.yaml").string() + " --epochs 1 --no-progress --out " +
                                (dir / "again").string());
  BOOST_TEST(again.status == 0, again.output);
  // No temporary files are left beside the results.
  for (const auto& e : fs::directory_iterator(dir / "run"))
    BOOST_TEST(e.path().string().find(".tmp") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(same_seed_and_threads_give_byte_identical_metrics) {
  for (const char* threads : {"1", "2"}) {
    TempDir dir;
    for (const char* name : {"a", "b"}) {
      const auto r = run_lamina("train " + (kModelsDir / "mlp.yaml").string() + kSlice + " --threads " + threads +
                                " --out " + (dir / name).string());
      BOOST_TEST_REQUIRE(r.status == 0, r.output);
    }
    BOOST_TEST(read_file(dir / "a" / "metrics.csv") == read_file(dir / "b" / "metrics.csv"));
    BOOST_TEST(read_file(dir / "a" / "metrics.json") == read_file(dir / "b" / "metrics.json"));
    BOOST_TEST(read_file(dir / "a" / "model.yaml") == read_file(dir / "b" / "model.yaml"));
  }
  // And another seed gives other numbers.
  TempDir dir;
  const auto a = run_lamina("train " + (kModelsDir / "mlp.yaml").string() + kSlice + " --threads 1 --seed 1 --out " +
                            (dir / "a").string());
  const auto b = run_lamina("train " + (kModelsDir / "mlp.yaml").string() + kSlice + " --threads 1 --seed 2 --out " +
                            (dir / "b").string());
  BOOST_TEST_REQUIRE(a.status + b.status == 0);
  BOOST_TEST(read_file(dir / "a" / "metrics.csv") != read_file(dir / "b" / "metrics.csv"));
}

BOOST_AUTO_TEST_CASE(default_run_folder_is_under_runs) {
  TempDir dir;
  const auto r =
      run("cd " + dir.path().string() + " && " + kLamina.string() + " train " + (kModelsDir / "mlp.yaml").string() +
          " --set data.train_limit=500 --set data.test_limit=100 " + "--epochs 1 --no-progress");
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  std::vector<fs::path> runs;
  for (const auto& e : fs::directory_iterator(dir / "runs")) runs.push_back(e.path());
  BOOST_TEST_REQUIRE(runs.size() == 1u);
  BOOST_TEST(runs[0].filename().string().starts_with("mlp-"));
  BOOST_TEST(fs::exists(runs[0] / "metrics.json"));
}

BOOST_AUTO_TEST_CASE(overrides_change_the_model) {
  TempDir dir;
  const auto r = run_lamina("train " + (kModelsDir / "mlp.yaml").string() + kSlice +
                            " --set layers.0.units=50 --set layers.2.units=20 --set optimizer.lr=0.05 --out " +
                            (dir / "run").string());
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  // 784*50+50 + 50*20+20 + 20*10+10 parameters.
  BOOST_TEST(r.output.find("(40480 parameters)") != std::string::npos);
  const std::string yaml = read_file(dir / "run" / "model.yaml");
  BOOST_TEST(yaml.find("units: 50") != std::string::npos);
  BOOST_TEST(yaml.find("lr: 0.05") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_diverging_run_stops_with_status_1_and_keeps_its_metrics) {
  TempDir dir;
  auto train = [&](const std::string& lr, const fs::path& run) {
    return run_lamina("train " + (kModelsDir / "mlp.yaml").string() + kSlice + " --threads 2 --set optimizer.lr=" + lr +
                      " --out " + run.string());
  };
  const std::string header = "epoch,train_loss,train_accuracy,penalty,val_loss,val_accuracy,test_loss,test_accuracy\n";
  // lr 1e3 survives the first epoch here and breaks in a later one: the finished epochs stay.
  const fs::path run = dir / "run";
  const auto r = train("1e3", run);
  BOOST_TEST(r.status == 1, r.output);
  const auto at = r.output.find("lamina train: failed: training diverged at epoch ");
  BOOST_TEST_REQUIRE(at != std::string::npos, r.output);
  const int epoch = std::stoi(r.output.substr(at + 49));
  BOOST_TEST_REQUIRE(epoch >= 2, r.output);
  BOOST_TEST(r.output.find(", batch ", at) != std::string::npos, r.output);
  BOOST_TEST(r.output.find("the metrics of the " + std::to_string(epoch - 1) + " finished epoch") != std::string::npos,
             r.output);
  BOOST_TEST(count_lines(read_file(run / "metrics.csv")) == static_cast<std::size_t>(epoch));
  BOOST_TEST(read_file(run / "metrics.csv").starts_with(header + "1,"));
  BOOST_TEST(fs::exists(run / "model.safetensors"));  // the last finished epoch's checkpoint
  const auto info = nlohmann::json::parse(read_file(run / "run.json"));
  BOOST_TEST(info["status"] == "diverged");
  BOOST_TEST(info["diverged"]["epoch"] == epoch);
  BOOST_TEST(info["diverged"]["batch"].get<int>() >= 1);

  // Diverging in the first epoch leaves the header alone, and says so.
  const auto early = train("1e30", dir / "early");
  BOOST_TEST(early.status == 1, early.output);
  BOOST_TEST(early.output.find("training diverged at epoch 1, batch ") != std::string::npos, early.output);
  BOOST_TEST(early.output.find("no epoch had finished (run.json records the failure) in " + (dir / "early").string()) !=
                 std::string::npos,
             early.output);
  BOOST_TEST(read_file(dir / "early" / "metrics.csv") == header);
}

BOOST_AUTO_TEST_CASE(csv_and_idx_sources_train_too) {
  TempDir dir;
  // 60 CSV rows: label = whether f1 > f2, learnable by one affine layer.
  std::string csv = "label,f1,f2\n";
  lamina::Rng rng(3);
  for (int i = 0; i < 60; ++i) {
    const float a = rng.uniform(), b = rng.uniform();
    csv += std::to_string(a > b ? 1 : 0) + "," + std::to_string(a) + "," + std::to_string(b) + "\n";
  }
  write_file(dir / "train.csv", csv);
  write_file(dir / "model.yaml",
             "data: {source: csv, train: train.csv, test: train.csv}\n"
             "layers:\n  - {type: affine, units: 2}\n"
             "loss: softmax_cross_entropy\noptimizer: {type: sgd, lr: 0.5}\ntrain: {epochs: 30, batch_size: 10}\n");
  const auto r =
      run_lamina("train " + (dir / "model.yaml").string() + " --no-progress --out " + (dir / "run").string());
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  BOOST_TEST(final_test_accuracy(dir / "run") > 0.8);  // chance is about 0.5
  // The resolved model names its data by absolute paths, so it trains from anywhere.
  const auto again = run("cd / && " + kLamina.string() + " train " + (dir / "run" / "model.yaml").string() +
                         " --epochs 1 --no-progress --out " + (dir / "again").string());
  BOOST_TEST(again.status == 0, again.output);

  write_file(dir / "idx.yaml",
             "data: {source: idx, train_images: " + (kDataDir / "tiny-images-idx3-ubyte").string() +
                 ", train_labels: " + (kDataDir / "tiny-labels-idx1-ubyte").string() +
                 ", test_images: " + (kDataDir / "tiny-images-idx3-ubyte.gz").string() +
                 ", test_labels: " + (kDataDir / "tiny-labels-idx1-ubyte.gz").string() +
                 "}\n"
                 "layers:\n  - {type: affine, units: 3}\nloss: softmax_cross_entropy\noptimizer: sgd\n"
                 "train: {epochs: 2, batch_size: 4}\n");
  const auto i = run_lamina("train " + (dir / "idx.yaml").string() + " --no-progress --out " + (dir / "idx").string());
  BOOST_TEST(i.status == 0, i.output);
}

// Data prepared in Python: numpy (Debian's python3-numpy, an independent writer of the format)
// saves a slice of Fashion-MNIST as .npy, and the npy source trains on it to exactly the numbers
// of the same slice read from the IDX files; predict reads .npy inputs by their extension.
BOOST_AUTO_TEST_CASE(npy_files_saved_by_numpy_train_as_the_idx_files_they_came_from) {
  TempDir dir;
  write_file(dir / "save.py", R"(import gzip, numpy as np
def idx(name, offset):
    with gzip.open('/usr/share/datasets/fashion-mnist/' + name + '.gz') as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)
x = idx('train-images-idx3-ubyte', 16).reshape(-1, 28, 28)[:600]
y = idx('train-labels-idx1-ubyte', 8)[:600].astype(np.int64)
tx = idx('t10k-images-idx3-ubyte', 16).reshape(-1, 28, 28)[:200]
ty = idx('t10k-labels-idx1-ubyte', 8)[:200].astype(np.int16)
np.save('x.npy', x); np.save('y.npy', y); np.save('tx.npy', tx); np.save('ty.npy', ty)
np.save('xf.npy', np.ascontiguousarray(x.reshape(600, 784), dtype=np.float32))
np.save('tf.npy', np.asfortranarray(tx.astype(np.float32)))
np.save('tfc.npy', tx.reshape(200, 784).astype(np.float32))  # C order, flat rows
# The same 200 test images as an IDX file, for predict.
with open('t-images', 'wb') as f:
    f.write(bytes([0, 0, 8, 3]) + (200).to_bytes(4, 'big') + (28).to_bytes(4, 'big') * 2 + tx.tobytes())
)");
  const auto py = run("cd " + dir.path().string() + " && /usr/bin/python3 save.py");
  BOOST_TEST_REQUIRE(py.status == 0, py.output);
  const std::string common = " --set train.epochs=2 --set data.validation_split=0.2 --no-progress --threads 1";
  const auto from_idx = run_lamina("train " + (kModelsDir / "mlp.yaml").string() + common +
                                   " --set data.train_limit=600 --set data.test_limit=200 --out " +
                                   (dir / "idx").string());
  BOOST_TEST_REQUIRE(from_idx.status == 0, from_idx.output);
  const auto npy_data = [&](const std::string& x, const std::string& tx) {
    return " --set 'data={source: npy, train_x: " + (dir / x).string() + ", train_y: " + (dir / "y.npy").string() +
           ", test_x: " + (dir / tx).string() + ", test_y: " + (dir / "ty.npy").string() + ", validation_split: 0.2}'";
  };
  const auto from_npy = run_lamina("train " + (kModelsDir / "mlp.yaml").string() + common +
                                   npy_data("x.npy", "tx.npy") + " --out " + (dir / "npy").string());
  BOOST_TEST_REQUIRE(from_npy.status == 0, from_npy.output);
  BOOST_TEST(read_file(dir / "npy" / "metrics.csv") == read_file(dir / "idx" / "metrics.csv"));
  BOOST_TEST(read_file(dir / "npy" / "model.yaml").find("scale: 0.003921569") != std::string::npos);

  // A Fortran-order file is refused, naming it.
  const auto fortran = run_lamina("train " + (kModelsDir / "mlp.yaml").string() + common +
                                  npy_data("xf.npy", "tf.npy") + " --out " + (dir / "f").string());
  BOOST_TEST(fortran.status == 2, fortran.output);
  BOOST_TEST(fortran.output.find("tf.npy: the array is in Fortran order") != std::string::npos, fortran.output);

  // float32 samples (flat rows of 0..255) train too: scaled by 1/255 as the bytes were, they give
  // the IDX run's numbers (affine flattens (1, 28, 28) and (784) alike).
  const auto floats = run_lamina("train " + (kModelsDir / "mlp.yaml").string() + common + npy_data("xf.npy", "tfc.npy") +
                                 " --set data.scale=0.00392156862745098 --out " + (dir / "float").string());
  BOOST_TEST_REQUIRE(floats.status == 0, floats.output);
  BOOST_TEST(read_file(dir / "float" / "metrics.csv") == read_file(dir / "idx" / "metrics.csv"));

  // predict: the .npy file by its extension, the IDX file by the run's own source: one answer.
  const auto by_npy = run_lamina("predict " + (dir / "idx").string() + " --input " + (dir / "tx.npy").string() +
                                 " --out " + (dir / "p-npy.csv").string());
  BOOST_TEST_REQUIRE(by_npy.status == 0, by_npy.output);
  const auto by_idx = run_lamina("predict " + (dir / "idx").string() + " --input " + (dir / "t-images").string() +
                                 " --out " + (dir / "p-idx.csv").string());
  BOOST_TEST_REQUIRE(by_idx.status == 0, by_idx.output);
  BOOST_TEST(read_file(dir / "p-npy.csv") == read_file(dir / "p-idx.csv"));
  BOOST_TEST(csv_numbers(read_file(dir / "p-npy.csv")).size() == 200u);
}

BOOST_AUTO_TEST_CASE(a_plugin_from_plugin_dir_is_usable_without_rebuilding) {
  TempDir dir;
  const auto r = run_lamina("train " + (kModelsDir / "mlp.yaml").string() + kSlice +
                            " --set layers.1.type=scale2 --set optimizer.lr=0.01 --plugin-dir " +
                            (kFixturePluginDir / "second_valid").string() + " --out " + (dir / "run").string());
  BOOST_TEST(r.status == 0, r.output);
  BOOST_TEST(read_file(dir / "run" / "model.yaml").find("type: scale2") != std::string::npos);
}
