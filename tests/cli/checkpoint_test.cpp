// Run folders as checkpoints: eval reproduces a run, resume continues it exactly, ensembles
// average members, and damaged checkpoints are refused.
#define BOOST_TEST_MODULE cli_checkpoint
#include <boost/test/unit_test.hpp>

#include "test_support.hpp"

using namespace lamina::test;

namespace {

// BatchNorm (state), dropout (the layer stream), Adam (optimizer state): everything a resume
// must restore.
const std::string kFlags =
    " --set data.train_limit=2000 --set data.test_limit=500 --set 'layers.1={type: batchnorm}'"
    " --set 'layers.3={type: dropout, ratio: 0.2}' --set 'optimizer={type: adam}' --threads 1 --no-progress";

CommandResult train(const fs::path& out, int epochs, const std::string& extra = "") {
  return run_lamina("train " + (kModelsDir / "mlp.yaml").string() + kFlags + " --epochs " + std::to_string(epochs) +
                    extra + " --out " + out.string());
}

// A run whose model uses `scale2` of the second_valid fixture plugin (version 2.3.4).
void train_with_second_valid(const fs::path& out) {
  const auto t = run_lamina("train " + (kModelsDir / "mlp.yaml").string() +
                            " --set data.train_limit=500 --set data.test_limit=100 --epochs 1 --no-progress"
                            " --set layers.1.type=scale2 --set optimizer.lr=0.01 --plugin-dir " +
                            (kFixturePluginDir / "second_valid").string() + " --out " + out.string());
  BOOST_TEST_REQUIRE(t.status == 0, t.output);
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_resumed_run_equals_an_uninterrupted_one) {
  TempDir dir;
  BOOST_TEST_REQUIRE(train(dir / "whole", 4).status == 0);
  BOOST_TEST_REQUIRE(train(dir / "part", 2).status == 0);
  const auto r = run_lamina("train --resume " + (dir / "part").string() + " --epochs 4 --threads 1 --no-progress");
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  BOOST_TEST(r.output.find("resuming " + (dir / "part").string() + " after epoch 2") != std::string::npos);
  BOOST_TEST(read_file(dir / "part" / "metrics.csv") == read_file(dir / "whole" / "metrics.csv"));
  BOOST_TEST(read_file(dir / "part" / "model.safetensors") == read_file(dir / "whole" / "model.safetensors"));
  // Nothing left to do: a clear refusal.
  const auto again = run_lamina("train --resume " + (dir / "part").string() + " --no-progress");
  BOOST_TEST(again.status == 2);
  BOOST_TEST(again.output.find("the run already has all its 4 epochs") != std::string::npos, again.output);
}

BOOST_AUTO_TEST_CASE(a_resumed_run_keeps_its_schedule_exactly) {
  // reduce_on_plateau keeps state of its own (saved in optimizer.safetensors under "schedule."):
  // a 2-epoch run continued to 4 equals a 4-epoch run. (A schedule over the run's length, such
  // as cosine, is another curve for 2 epochs than for 4: cli_kill_test resumes one killed
  // mid-run instead.)
  // Callbacks with state (early_stopping's count, keep_best's best) likewise. On 400 samples:
  // the state is what is tested, and 2000 made this the suite's slowest case under ASan.
  const std::string small = " --set data.train_limit=400 --set data.test_limit=100";
  for (const char* set : {" --set 'optimizer.schedule={type: reduce_on_plateau, patience: 0, factor: 0.5, min_delta: 1}'",
                          " --set 'optimizer.schedule={type: step, every: 1, factor: 0.7}'",
                          " --set 'train.callbacks=[{type: early_stopping, patience: 9, min_delta: 0.01}, "
                          "{type: keep_best, metric: val_accuracy}, {type: clip_gradients, max_norm: 5}]'"}) {
    BOOST_TEST_CONTEXT(set) {
      TempDir dir;
      BOOST_TEST_REQUIRE(train(dir / "whole", 4, set + small).status == 0);
      BOOST_TEST_REQUIRE(train(dir / "part", 2, set + small).status == 0);
      const auto r =
          run_lamina("train --resume " + (dir / "part").string() + " --epochs 4 --threads 1 --no-progress");
      BOOST_TEST_REQUIRE(r.status == 0, r.output);
      for (const char* f : {"metrics.csv", "model.safetensors", "optimizer.safetensors", "model.yaml"}) {
        BOOST_TEST(read_file(dir / "part" / f) == read_file(dir / "whole" / f), f);
      }
      if (fs::exists(dir / "whole" / "model-best.safetensors")) {
        BOOST_TEST(read_file(dir / "part" / "model-best.safetensors") ==
                   read_file(dir / "whole" / "model-best.safetensors"));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(eval_reproduces_the_final_test_accuracy_and_ensembles_average) {
  TempDir dir;
  const auto a = train(dir / "a", 2);
  const auto b = train(dir / "b", 2, " --seed 7");
  BOOST_TEST_REQUIRE(a.status + b.status == 0);
  // The last line of metrics.csv ends with test_loss,test_acc (6 decimals), as eval prints them.
  std::string csv = read_file(dir / "a" / "metrics.csv");
  csv.pop_back();
  const std::string last = csv.substr(csv.rfind('\n') + 1);
  const auto comma = last.rfind(',');
  const std::string loss = last.substr(last.rfind(',', comma - 1) + 1, comma - last.rfind(',', comma - 1) - 1);
  const std::string acc = last.substr(comma + 1);
  const auto e = run_lamina("eval " + (dir / "a").string() + " --threads 1");
  BOOST_TEST_REQUIRE(e.status == 0, e.output);
  BOOST_TEST(e.output.find("test loss " + loss + " accuracy " + acc) != std::string::npos, e.output << " vs " << last);
  const auto ens = run_lamina("eval " + (dir / "a").string() + " " + (dir / "b").string() + " --threads 1");
  BOOST_TEST_REQUIRE(ens.status == 0, ens.output);
  BOOST_TEST(ens.output.find("ensemble of 2 (averaged probabilities): test accuracy 0.") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(damaged_or_mismatched_checkpoints_exit_2) {
  TempDir dir;
  BOOST_TEST_REQUIRE(train(dir / "a", 1).status == 0);
  const std::string good = read_file(dir / "a" / "model.safetensors");
  write_file(dir / "a" / "model.safetensors", good.substr(0, good.size() / 2));
  auto r = run_lamina("eval " + (dir / "a").string());
  BOOST_TEST(r.status == 2);
  BOOST_TEST(r.output.find("model.safetensors: tensor '") != std::string::npos, r.output);
  write_file(dir / "a" / "model.safetensors", good);
  r = run_lamina("eval " + (dir / "a").string() + " --set layers.0.units=64");
  BOOST_TEST(r.status == 2);
  BOOST_TEST(
      r.output.find("tensor 'layers.0.W' has shape (784, 256) but the model's is (784, 64)") != std::string::npos,
      r.output);
  r = run_lamina("eval " + dir.path().string());
  BOOST_TEST(r.status == 2);
  r = run_lamina("train --resume " + dir.path().string());
  BOOST_TEST(r.status == 2);
  BOOST_TEST(r.output.find("not a run folder") != std::string::npos, r.output);
}

BOOST_AUTO_TEST_CASE(a_checkpoint_whose_plugin_is_missing_is_refused_naming_it) {
  TempDir dir;
  train_with_second_valid(dir / "a");
  const auto r = run_lamina("eval " + (dir / "a").string());
  BOOST_TEST(r.status == 2);
  BOOST_TEST(r.output.find("the model needs layer 'scale2' from plugin second_valid 2.3.4, which is not loaded") !=
                 std::string::npos,
             r.output);
  const auto ok =
      run_lamina("eval " + (dir / "a").string() + " --plugin-dir " + (kFixturePluginDir / "second_valid").string());
  BOOST_TEST(ok.status == 0, ok.output);
}

BOOST_AUTO_TEST_CASE(a_checkpoint_refuses_another_minor_version_of_its_plugin_and_warns_on_a_patch) {
  // Trained with second_valid 2.3.4; the same plugin at 2.3.9 (patch) and 2.4.0 (minor).
  TempDir dir;
  train_with_second_valid(dir / "a");
  const std::string run = (dir / "a").string();
  const auto patch =
      run_lamina("eval " + run + " --plugin-dir " + (kFixturePluginDir / "second_valid_patch").string());
  BOOST_TEST(patch.status == 0, patch.output);
  BOOST_TEST(patch.output.find("warning: layer 'scale2' was trained with plugin second_valid 2.3.4, 2.3.9 is "
                               "loaded") != std::string::npos,
             patch.output);
  BOOST_TEST(patch.output.find("accuracy") != std::string::npos, patch.output);
  const auto minor =
      run_lamina("eval " + run + " --plugin-dir " + (kFixturePluginDir / "second_valid_minor").string());
  BOOST_TEST(minor.status == 2, minor.output);
  BOOST_TEST(minor.output.find("layer 'scale2' was trained with plugin second_valid 2.3.4 but second_valid 2.4.0 is "
                               "loaded") != std::string::npos,
             minor.output);
  const auto resume = run_lamina("train --resume " + run + " --epochs 2 --no-progress --plugin-dir " +
                                 (kFixturePluginDir / "second_valid_minor").string());
  BOOST_TEST(resume.status == 2, resume.output);
}

BOOST_AUTO_TEST_CASE(predict_writes_classes_and_probabilities) {
  TempDir dir;
  BOOST_TEST_REQUIRE(train(dir / "a", 1).status == 0);
  BOOST_TEST_REQUIRE(train(dir / "b", 1, " --seed 3").status == 0);
  // The Fashion-MNIST test images as the IDX input: 10000 rows, probabilities averaged over two runs.
  const auto r =
      run_lamina("predict " + (dir / "a").string() + " " + (dir / "b").string() + " --input " +
                 (kFashionDir / "t10k-images-idx3-ubyte.gz").string() + " --out " + (dir / "p.csv").string());
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  const std::string p = read_file(dir / "p.csv");
  BOOST_TEST(p.starts_with("row,class,p0,p1,p2,p3,p4,p5,p6,p7,p8,p9\n0,"));
  BOOST_TEST(count_lines(p) == 10001u);
  // Probabilities of a row sum to 1.
  const std::string row = p.substr(p.find('\n') + 1, p.find('\n', p.find('\n') + 1) - p.find('\n') - 1);
  double sum = 0;
  std::stringstream ss(row);
  std::string cell;
  for (int i = 0; std::getline(ss, cell, ','); ++i) {
    if (i >= 2) sum += std::stod(cell);
  }
  BOOST_TEST(sum == 1.0, boost::test_tools::tolerance(1e-4));
  // The ensemble is the mean of its members, number for number: each member predicted alone.
  for (const char* m : {"a", "b"}) {
    const auto one = run_lamina("predict " + (dir / m).string() + " --input " +
                                (kFashionDir / "t10k-images-idx3-ubyte.gz").string() + " --out " +
                                (dir / (std::string(m) + ".csv")).string());
    BOOST_TEST_REQUIRE(one.status == 0, one.output);
  }
  const auto ens = csv_numbers(p), pa = csv_numbers(read_file(dir / "a.csv")),
             pb = csv_numbers(read_file(dir / "b.csv"));
  BOOST_TEST_REQUIRE(ens.size() == 10000u);
  BOOST_TEST_REQUIRE(pa.size() == 10000u);
  double worst = 0;
  int disagreements = 0;
  for (std::size_t i = 0; i < ens.size(); ++i) {
    for (std::size_t j = 2; j < 12; ++j) worst = std::max(worst, std::abs(ens[i][j] - 0.5 * (pa[i][j] + pb[i][j])));
    disagreements += pa[i][1] != pb[i][1];
  }
  BOOST_TEST(worst <= 1.0e-6);  // the files hold 6 decimals
  BOOST_TEST(disagreements > 0);  // two different members, so the mean is a real test
  write_file(dir / "x.csv", "0.1,0.2\n");
  const auto bad = run_lamina("predict " + (dir / "a").string() + " --input " + (dir / "x.csv").string() + " --out " +
                              (dir / "q.csv").string());
  BOOST_TEST(bad.status == 2);
  BOOST_TEST(bad.output.find("samples of shape (2) do not fit the model") != std::string::npos, bad.output);
  BOOST_TEST(!fs::exists(dir / "q.csv"));
}

BOOST_AUTO_TEST_CASE(predict_feeds_any_input_format_as_the_model_was_trained) {
  // A model trained on Fashion-MNIST (IDX bytes scaled by 1/255) given the same pixels as a CSV
  // of 0..255 values: the scaling is the model's (data.scale in its model.yaml), not the
  // format's, so both give the same probabilities. It used to apply 1 to the CSV and saturate.
  TempDir dir;
  BOOST_TEST_REQUIRE(train(dir / "a", 1).status == 0);
  BOOST_TEST(read_file(dir / "a" / "model.yaml").find("scale: 0.003921569") != std::string::npos,
             read_file(dir / "a" / "model.yaml"));
  std::string idx("\0\0\x08\x03\0\0\0\x05\0\0\0\x1c\0\0\0\x1c", 16);
  std::string csv;
  for (int i = 0; i < 5; ++i) {
    for (int k = 0; k < 784; ++k) {
      const int v = (k * (i + 3) + 11 * i) % 256;
      idx += static_cast<char>(v);
      if (k > 0) csv += ',';
      csv += std::to_string(v);
    }
    csv += "\n";
  }
  write_file(dir / "x-idx3-ubyte", idx);
  write_file(dir / "x.csv", csv);
  const std::string run = (dir / "a").string();
  auto r = run_lamina("predict " + run + " --input " + (dir / "x-idx3-ubyte").string() + " --out " +
                      (dir / "from-idx.csv").string());
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  r = run_lamina("predict " + run + " --input " + (dir / "x.csv").string() + " --out " + (dir / "from-csv.csv").string());
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  BOOST_TEST(count_lines(read_file(dir / "from-csv.csv")) == 6u);
  BOOST_TEST(read_file(dir / "from-csv.csv") == read_file(dir / "from-idx.csv"));
  // --scale overrides it, and then the outputs differ.
  r = run_lamina("predict " + run + " --input " + (dir / "x.csv").string() + " --scale 1 --out " +
                 (dir / "unscaled.csv").string());
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  BOOST_TEST(read_file(dir / "unscaled.csv") != read_file(dir / "from-idx.csv"));
  r = run_lamina("predict " + run + " --input " + (dir / "x.csv").string() + " --scale -1 --out " +
                 (dir / "bad.csv").string());
  BOOST_TEST(r.status == 2);
  BOOST_TEST(!fs::exists(dir / "bad.csv"));
}

// A graph model (a residual block around BatchNorm and dropout, a concat of a branch with the
// flattened input) through everything a chain goes through: resume, eval, an ensemble with a chain,
// predict, --set by name, and `lamina graph` on the run folder.
BOOST_AUTO_TEST_CASE(a_graph_model_resumes_evaluates_predicts_and_draws_as_a_chain_does) {
  TempDir dir;
  write_file(dir / "g.yaml",
             "data: {source: fashion-mnist, train_limit: 1000, test_limit: 200, validation_split: 0.1}\n"
             "layers:\n"
             "  - {type: affine, units: 32, name: stem}\n"
             "  - {type: batchnorm}\n"
             "  - {type: relu}\n"
             "  - {type: dropout, ratio: 0.2}\n"
             "  - {type: affine, units: 32, name: branch}\n"
             "  - {type: add, inputs: [stem, branch], name: sum}\n"
             "  - {type: relu, name: act}\n"
             "  - {type: flatten, inputs: [input], name: pixels}\n"
             "  - {type: concat, inputs: [act, pixels]}\n"
             "  - {type: affine, units: 10, name: scores}\n"
             "loss: softmax_cross_entropy\n"
             "optimizer: {type: adam}\n"
             "train: {batch_size: 50}\n");
  auto graph_train = [&](const char* name, int epochs, const std::string& extra = "") {
    const auto r = run_lamina("train " + (dir / "g.yaml").string() + " --epochs " + std::to_string(epochs) +
                              " --threads 1 --no-progress --out " + (dir / name).string() + extra);
    BOOST_TEST_REQUIRE(r.status == 0, r.output);
    return r;
  };
  graph_train("whole", 3);
  graph_train("part", 1);
  const auto r = run_lamina("train --resume " + (dir / "part").string() + " --epochs 3 --threads 1 --no-progress");
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  for (const char* f : {"metrics.csv", "model.safetensors", "optimizer.safetensors"}) {
    BOOST_TEST(read_file(dir / "part" / f) == read_file(dir / "whole" / f), f);
  }
  // The run's model.yaml keeps the graph: it is a model file that trains to the same numbers.
  const std::string resolved = read_file(dir / "whole" / "model.yaml");
  BOOST_TEST(resolved.find("inputs:\n      - stem\n      - branch") != std::string::npos, resolved);
  graph_train("again", 3, "");
  BOOST_TEST(read_file(dir / "again" / "metrics.csv") == read_file(dir / "whole" / "metrics.csv"));

  const std::string csv = read_file(dir / "whole" / "metrics.csv");
  const std::string acc = csv.substr(csv.rfind(',') + 1, csv.size() - csv.rfind(',') - 2);
  const auto e = run_lamina("eval " + (dir / "whole").string() + " --threads 1");
  BOOST_TEST(e.status == 0, e.output);
  BOOST_TEST(e.output.find("accuracy " + acc) != std::string::npos, e.output << " vs " << acc);
  BOOST_TEST_REQUIRE(train(dir / "chain", 1).status == 0);
  const auto ens = run_lamina("eval " + (dir / "whole").string() + " " + (dir / "chain").string());
  BOOST_TEST(ens.output.find("ensemble of 2 (averaged probabilities): test accuracy 0.") != std::string::npos,
             ens.output);
  const auto p = run_lamina("predict " + (dir / "whole").string() + " --input " +
                            (kFashionDir / "t10k-images-idx3-ubyte.gz").string() + " --out " + (dir / "p.csv").string());
  BOOST_TEST(p.status == 0, p.output);
  BOOST_TEST(count_lines(read_file(dir / "p.csv")) == 10001u);

  // --set by name reaches the layer it names, in the run's model.yaml too.
  graph_train("wide", 1, " --set layers.branch.units=32 --set layers.stem.units=16 --set layers.branch.units=16");
  BOOST_TEST(read_file(dir / "wide" / "model.yaml").find("units: 16\n    init: he\n    bias: true\n    per_position: false\n    name: stem") !=
             std::string::npos);

  // The run folder drawn: its layers with their inputs, and the edges of the graph.
  const auto g = run_lamina("graph " + (dir / "whole").string() + " --out " + (dir / "g.dot").string());
  BOOST_TEST_REQUIRE(g.status == 0, g.output);
  BOOST_TEST(g.output.find("layers.5   sum          add              (32)") != std::string::npos, g.output);
  BOOST_TEST(g.output.find("stem, branch") != std::string::npos, g.output);
  BOOST_TEST(g.output.find("layers.8                concat           (816)") != std::string::npos, g.output);
  const std::string dot = read_file(dir / "g.dot");
  for (const char* edge : {"n0 -> n5;", "n4 -> n5;", "n6 -> n8;", "n7 -> n8;", "input -> n7;", "input -> n0;"}) {
    BOOST_TEST(dot.find(edge) != std::string::npos, edge);
  }
  const auto svg = run_lamina("graph " + (dir / "g.yaml").string() + " --input-shape 1,28,28 --out " +
                              (dir / "g.svg").string());
  BOOST_TEST_REQUIRE(svg.status == 0, svg.output);
  BOOST_TEST(read_file(dir / "g.svg").find("<svg") != std::string::npos);
}
