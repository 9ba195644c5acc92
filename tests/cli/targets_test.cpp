// Targets other than a class, end to end through the real binary: a regression CSV and a
// multi-label CSV train with their losses, they report rmse and macro_f1 by default (no accuracy), predict writes what
// each model predicts, and a loss that does not take the data's targets is refused before any
// run folder exists.
#define BOOST_TEST_MODULE cli_targets
#include <algorithm>
#include <cmath>
#include <boost/test/unit_test.hpp>
#include <fmt/format.h>
#include <lamina/rng.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

#include "test_support.hpp"

using namespace lamina::test;

namespace {

// y = 2 x0 - x1 + 0.5 (regression), or the labels [x0 > 0, x1 > 0] (multi-label), and a
// third feature of noise; a header row.
std::string table(int rows, bool regression, std::uint64_t seed) {
  lamina::Rng rng(seed, lamina::Rng::Stream::User);
  std::string csv = regression ? "y,x0,x1,x2\n" : "a,b,x0,x1,x2\n";
  for (int i = 0; i < rows; ++i) {
    const float x0 = rng.normal(0, 1), x1 = rng.normal(0, 1), x2 = rng.normal(0, 1);
    csv += regression ? fmt::format("{},{},{},{}\n", 2 * x0 - x1 + 0.5f, x0, x1, x2)
                      : fmt::format("{},{},{},{},{}\n", x0 > 0 ? 1 : 0, x1 > 0 ? 1 : 0, x0, x1, x2);
  }
  return csv;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_regression_csv_trains_with_mse_and_predicts_its_outputs) {
  TempDir dir;
  write_file(dir / "train.csv", table(400, true, 1));
  write_file(dir / "test.csv", table(100, true, 2));
  std::string x_only;  // predict's input: the features alone
  for (const auto& l : lines(table(5, true, 3))) x_only += l.substr(l.find(',') + 1) + "\n";
  write_file(dir / "x.csv", x_only);
  write_file(dir / "m.yaml",
             "data: {source: csv, train: train.csv, test: test.csv, task: regression, target_columns: y}\n"
             "layers: [{type: affine, units: 1}]\nloss: mse\noptimizer: {type: sgd, lr: 0.1}\n"
             "train: {epochs: 20, batch_size: 20}\n");
  const auto r = run_lamina("train " + (dir / "m.yaml").string() + " --no-progress --out " + (dir / "run").string());
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  // Without `metrics:`, a regression model reports rmse (the regression_metrics plugin's default).
  BOOST_TEST(r.output.find("test rmse: 0.0") != std::string::npos, r.output);  // a linear target is learned
  BOOST_TEST(r.output.find("acc") == std::string::npos, r.output);
  const auto csv = lines(read_file(dir / "run" / "metrics.csv"));
  BOOST_TEST(csv.front() == "epoch,train_loss,train_rmse,penalty,val_loss,val_rmse,test_loss,test_rmse");
  const auto j = nlohmann::json::parse(read_file(dir / "run" / "metrics.json"));
  const auto& test = j["epochs"].back()["test"];
  BOOST_TEST(!test.contains("accuracy"));
  BOOST_TEST(test["loss"].get<double>() < 0.01);
  // One output: the rmse is the root of the mse over the split (the loss, averaged in float).
  BOOST_TEST(test["rmse"].get<double>() == std::sqrt(test["loss"].get<double>()), boost::test_tools::tolerance(1e-4));

  const auto p = run_lamina("predict " + (dir / "run").string() + " --input " + (dir / "x.csv").string() +
                            " --out " + (dir / "p.csv").string());
  BOOST_TEST_REQUIRE(p.status == 0, p.output);
  const auto pred = lines(read_file(dir / "p.csv"));
  BOOST_TEST_REQUIRE(pred.size() == 6u);
  BOOST_TEST(pred[0] == "row,y0");
  const auto truth = lines(table(5, true, 3));
  for (int i = 0; i < 5; ++i) {
    const double want = std::stod(truth[static_cast<std::size_t>(i + 1)]);
    const double got = std::stod(pred[static_cast<std::size_t>(i + 1)].substr(pred[static_cast<std::size_t>(i + 1)].find(',') + 1));
    BOOST_TEST(std::abs(got - want) < 0.1, "row " << i << ": " << got << " for " << want);
  }
  // The run reopens as a regression model: eval prints its loss alone.
  const auto e = run_lamina("eval " + (dir / "run").string());
  BOOST_TEST(e.status == 0, e.output);
  BOOST_TEST(e.output.find("test loss 0.0") != std::string::npos, e.output);
  BOOST_TEST(e.output.find("accuracy") == std::string::npos, e.output);
}

BOOST_AUTO_TEST_CASE(a_multilabel_csv_trains_with_bce_and_predicts_a_probability_per_label) {
  TempDir dir;
  write_file(dir / "train.csv", table(400, false, 4));
  write_file(dir / "test.csv", table(100, false, 5));
  write_file(dir / "x.csv", "3,-2,0\n-1,1,5\n");
  write_file(dir / "m.yaml",
             "data: {source: csv, train: train.csv, test: test.csv, task: multilabel, target_columns: [a, b]}\n"
             "layers: [{type: affine, units: 2}]\nloss: bce_with_logits\noptimizer: {type: sgd, lr: 0.5}\n"
             "train: {epochs: 20, batch_size: 20}\n");
  const auto r = run_lamina("train " + (dir / "m.yaml").string() + " --no-progress --out " + (dir / "run").string());
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  const auto p = run_lamina("predict " + (dir / "run").string() + " --input " + (dir / "x.csv").string() +
                            " --out " + (dir / "p.csv").string());
  BOOST_TEST_REQUIRE(p.status == 0, p.output);
  const auto pred = lines(read_file(dir / "p.csv"));
  BOOST_TEST_REQUIRE(pred.size() == 3u);
  BOOST_TEST(pred[0] == "row,labels,p0,p1");
  auto probability = [&](std::size_t row, int label) {
    std::vector<std::string> cells;
    std::istringstream in(pred[row]);
    for (std::string c; std::getline(in, c, ',');) cells.push_back(c);
    return std::stod(cells.at(static_cast<std::size_t>(2 + label)));
  };
  BOOST_TEST(pred[1].starts_with("0,0,"), pred[1]);  // x0 = 3 > 0: label 0; x1 = -2: not label 1
  BOOST_TEST(probability(1, 0) > 0.9);
  BOOST_TEST(probability(1, 1) < 0.1);
  BOOST_TEST(pred[2].starts_with("1,1,"), pred[2]);  // x0 = -1: not label 0; x1 = 1: label 1
  BOOST_TEST(probability(2, 0) < 0.1);
  BOOST_TEST(probability(2, 1) > 0.9);
}

BOOST_AUTO_TEST_CASE(callbacks_and_the_search_rank_by_a_named_metric_in_its_plugins_direction) {
  // r2 is better higher, mae lower: keep_best on val_r2 keeps the epoch of the largest val_r2, and
  // a search by val_r2 puts its largest first. Ranking by the name alone (lower is better, as for
  // a loss) would keep the first epoch and reverse the table.
  TempDir dir;
  write_file(dir / "train.csv", table(200, true, 4));
  write_file(dir / "test.csv", table(50, true, 5));
  write_file(dir / "m.yaml",
             "data: {source: csv, train: train.csv, test: test.csv, task: regression, target_columns: y,"
             " validation_split: 0.25}\n"
             "layers: [{type: affine, units: 1}]\nloss: mse\nmetrics: [r2, mae]\n"
             "optimizer: {type: sgd, lr: 0.02}\n"
             "train: {epochs: 6, batch_size: 20, callbacks: [{type: keep_best, metric: val_r2}]}\n");
  const auto r = run_lamina("train " + (dir / "m.yaml").string() + " --no-progress --out " + (dir / "run").string());
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  BOOST_TEST(r.output.find("test r2: 0.") != std::string::npos, r.output);
  BOOST_TEST(lines(read_file(dir / "run" / "metrics.csv")).front() ==
             "epoch,train_loss,train_r2,train_mae,penalty,val_loss,val_r2,val_mae,test_loss,test_r2,test_mae");
  const auto epochs = nlohmann::json::parse(read_file(dir / "run" / "metrics.json"))["epochs"];
  BOOST_TEST_REQUIRE(epochs.size() == 6u);
  std::size_t best = 0;
  for (std::size_t e = 1; e < epochs.size(); ++e) {
    if (epochs[e]["validation"]["r2"].get<double>() > epochs[best]["validation"]["r2"].get<double>()) best = e;
  }
  BOOST_TEST_REQUIRE(best > 0u, "the rate is low enough that val_r2 climbs for several epochs");
  const auto e = run_lamina("eval " + (dir / "run").string() + " --best");
  BOOST_TEST_REQUIRE(e.status == 0, e.output);
  BOOST_TEST(e.output.find(fmt::format(" r2 {:.6f}", epochs[best]["test"]["r2"].get<double>())) != std::string::npos,
             e.output << " best epoch " << best + 1);

  write_file(dir / "s.yaml",
             "model: m.yaml\nspace:\n  optimizer.lr: {log_uniform: [0.0001, 0.05]}\ntrials: 4\nepochs: 2\n"
             "metric: val_r2\n");
  const auto s = run_lamina("search " + (dir / "s.yaml").string() + " --out " + (dir / "search").string());
  BOOST_TEST_REQUIRE(s.status == 0, s.output);
  const auto journal = read_file(dir / "search" / "journal.jsonl");
  const auto header = nlohmann::json::parse(journal.substr(0, journal.find('\n')));
  BOOST_TEST(header["higher_is_better"] == true);
  const auto table_rows = lines(read_file(dir / "search" / "results.csv"));
  BOOST_TEST_REQUIRE(table_rows.size() == 5u);
  std::vector<std::string> columns;
  std::istringstream names(table_rows[0]);
  for (std::string name; std::getline(names, name, ',');) columns.push_back(name);
  const auto at = static_cast<std::size_t>(std::find(columns.begin(), columns.end(), "val_r2") - columns.begin());
  BOOST_TEST_REQUIRE(at < columns.size(), table_rows[0]);
  std::vector<double> scores;
  for (std::size_t i = 1; i < table_rows.size(); ++i) {
    std::istringstream cells(table_rows[i]);
    std::string cell;
    for (std::size_t k = 0; k <= at; ++k) std::getline(cells, cell, ',');
    scores.push_back(std::stod(cell));
  }
  BOOST_TEST(std::is_sorted(scores.rbegin(), scores.rend()), table_rows[1] << " ... " << table_rows.back());
  BOOST_TEST(scores.front() > scores.back());
}

BOOST_AUTO_TEST_CASE(a_loss_that_does_not_take_the_targets_is_refused_before_the_run_starts) {
  TempDir dir;
  write_file(dir / "d.csv", table(20, true, 6));
  write_file(dir / "m.yaml",
             "data: {source: csv, train: d.csv, test: d.csv, task: regression, target_columns: [0]}\n"
             "layers: [{type: affine, units: 1}]\nloss: softmax_cross_entropy\noptimizer: sgd\n");
  const auto r = run_lamina("train " + (dir / "m.yaml").string() + " --no-progress --out " + (dir / "run").string());
  BOOST_TEST(r.status == 2, r.output);
  BOOST_TEST(r.output.find("m.yaml:3:7: loss 'softmax_cross_entropy' does not take the regression targets of") !=
                 std::string::npos,
             r.output);
  BOOST_TEST(r.output.find("m.yaml:1:7); it takes class, class_per_position and class_probabilities targets") != std::string::npos,
             r.output);
  BOOST_TEST(!fs::exists(dir / "run"));
}

// The text source: a file's bytes in windows, each position's target the next byte. "abcd"
// repeated is learned position by position (each byte names the next); the test text is the
// file's end (test_fraction). Its bad inputs are in tests/bad-inputs/data.yaml.
BOOST_AUTO_TEST_CASE(a_text_file_trains_a_byte_language_model_with_a_target_per_position) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 500; ++i) text += "abcd";
  write_file(dir / "corpus.txt", text);
  const std::string model =
      "data: {source: text, train: corpus.txt, test_fraction: 0.2, length: 4, stride: 2}\n"
      "layers:\n"
      "  - {type: embedding, vocabulary: 256, dim: 8}\n"
      "  - {type: flatten}\n"
      "  - {type: affine, units: 1024}\n"
      "  - {type: reshape, shape: [4, 256]}\n"
      "loss: softmax_cross_entropy\noptimizer: {type: adam, lr: 0.01}\n"
      "train: {epochs: 4, batch_size: 50}\n";
  write_file(dir / "m.yaml", model);
  const auto r = run_lamina("train " + (dir / "m.yaml").string() + " --no-progress --out " + (dir / "run").string());
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  // 1600 training bytes: (1600 - 5) / 2 + 1 = 798 windows; the last 400 bytes: 198 test windows.
  BOOST_TEST(r.output.find("on 798 samples, testing on 198") != std::string::npos, r.output);
  BOOST_TEST(r.output.find("test accuracy: 1.0") != std::string::npos, r.output);
}

// `lamina generate`: a causal model (embedding, learned positions, causal attention, a per-position
// affine to 256 byte scores) learns one sentence repeated, then continues its start. Greedy
// decoding (temperature 0) gives the sentence itself; a seed fixes the sampled text; a model
// that looks ahead (attention without its mask) and a run of images are refused.
BOOST_AUTO_TEST_CASE(a_causal_language_model_generates_text_deterministically_for_a_seed) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 60; ++i) text += "the quick brown fox jumps over the lazy dog. ";
  write_file(dir / "corpus.txt", text);
  write_file(dir / "m.yaml",
             "data: {source: text, train: corpus.txt, length: 16, stride: 4}\n"
             "layers:\n"
             "  - {type: embedding, vocabulary: 256, dim: 32}\n"
             "  - {type: positional_embedding}\n"
             "  - {type: layernorm, name: n}\n"
             "  - {type: multi_head_attention, heads: 2, causal: true, name: a}\n"
             "  - {type: add, inputs: [n, a]}\n"
             "  - {type: affine, units: 256, per_position: true}\n"
             "loss: softmax_cross_entropy\noptimizer: {type: adam, lr: 3.0e-3}\n"
             "train: {epochs: 30, batch_size: 32, seed: 1}\n");
  const std::string run = (dir / "run").string();
  const auto trained = run_lamina("train " + (dir / "m.yaml").string() + " --no-progress --threads 1 --out " + run);
  BOOST_TEST_REQUIRE(trained.status == 0, trained.output);
  // A prompt longer than the window (16) is cut to its last 16 bytes.
  const auto greedy = run_lamina("generate " + run + " --prompt 'over the lazy dog. the quick' --tokens 40 --temperature 0");
  BOOST_TEST(greedy.status == 0, greedy.output);
  BOOST_TEST(greedy.output.find("over the lazy dog. the quick brown fox jumps over the lazy dog.") == 0, greedy.output);
  const std::string sample = "generate " + run + " --prompt 'the' --tokens 60 --temperature 2 --seed ";
  const auto a = run_lamina(sample + "7"), b = run_lamina(sample + "7"), c = run_lamina(sample + "8");
  BOOST_TEST(a.status == 0, a.output);
  BOOST_TEST(a.output == b.output);
  BOOST_TEST(a.output != c.output);
  BOOST_TEST(a.output.size() >= 63u);  // the prompt and 60 bytes
  const auto ahead = run_lamina("train " + (dir / "m.yaml").string() + " --no-progress --set layers.3.causal=false " +
                                "--set train.epochs=1 --out " + (dir / "ahead").string());
  BOOST_TEST_REQUIRE(ahead.status == 0, ahead.output);
  const auto refused = run_lamina("generate " + (dir / "ahead").string() + " --prompt 'the' --tokens 5");
  BOOST_TEST(refused.status == 2);
  BOOST_TEST(refused.output.find("the model is not causal: its scores at position 2 change") != std::string::npos,
             refused.output);
}

// `tokens: characters`: a text with characters of 2 and 3 bytes learned character by character;
// the run keeps the vocabulary, so generate gives the same text after the training file has
// been replaced by one with other characters (whose vocabulary would number them otherwise).
BOOST_AUTO_TEST_CASE(a_character_model_keeps_its_vocabulary_with_the_run) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 60; ++i) text += "caf\xc3\xa9 \xe2\x82\xac" "5, cr\xc3\xa8me br\xc3\xbbl\xc3\xa9" "e. ";
  write_file(dir / "corpus.txt", text);
  write_file(dir / "m.yaml",
             "data: {source: text, train: corpus.txt, tokens: characters, length: 12, stride: 3}\n"
             "layers:\n"
             "  - {type: embedding, vocabulary: 32, dim: 24}\n"
             "  - {type: lstm, units: 48, return: sequence}\n"
             "  - {type: affine, units: 32, per_position: true}\n"
             "loss: softmax_cross_entropy\noptimizer: {type: adam, lr: 1.0e-2}\n"
             "train: {epochs: 12, batch_size: 32, seed: 1}\n");
  const std::string run = (dir / "run").string();
  const auto trained = run_lamina("train " + (dir / "m.yaml").string() + " --no-progress --threads 1 --out " + run);
  BOOST_TEST_REQUIRE(trained.status == 0, trained.output);
  const std::string greedy = "generate " + run + " --prompt 'caf\xc3\xa9 ' --tokens 24 --temperature 0";
  const auto before = run_lamina(greedy);
  BOOST_TEST_REQUIRE(before.status == 0, before.output);
  BOOST_TEST(before.output.find("caf\xc3\xa9 \xe2\x82\xac" "5, cr\xc3\xa8me br\xc3\xbbl\xc3\xa9" "e. caf\xc3\xa9") == 0,
             before.output);
  write_file(dir / "corpus.txt", "0123456789 abc");  // other characters, other ids
  const auto after = run_lamina(greedy);
  BOOST_TEST(after.output == before.output);
  // A character the training text did not hold reads as the unknown id (printed U+FFFD).
  const auto unknown = run_lamina("generate " + run + " --prompt 'Z' --tokens 1 --temperature 0");
  BOOST_TEST(unknown.status == 0, unknown.output);
  BOOST_TEST(unknown.output.starts_with("\xef\xbf\xbd"), unknown.output);
}
