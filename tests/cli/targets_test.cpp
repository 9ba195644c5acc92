// Targets other than a class, end to end through the real binary: a regression CSV and a
// multi-label CSV train with their losses, metrics leave accuracy empty, predict writes what
// each model predicts, and a loss that does not take the data's targets is refused before any
// run folder exists.
#define BOOST_TEST_MODULE cli_targets
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
  BOOST_TEST(r.output.find("test loss: 0.0") != std::string::npos, r.output);  // a linear target is learned
  BOOST_TEST(r.output.find("acc") == std::string::npos, r.output);
  const auto csv = lines(read_file(dir / "run" / "metrics.csv"));
  BOOST_TEST(csv.back().ends_with(","), csv.back());  // test_acc left empty: regression has none
  const auto j = nlohmann::json::parse(read_file(dir / "run" / "metrics.json"));
  BOOST_TEST(j["epochs"].back()["test"]["accuracy"].is_null());
  BOOST_TEST(j["epochs"].back()["test"]["loss"].get<double>() < 0.01);

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
  BOOST_TEST(r.output.find("m.yaml:1:7); it takes class and class_per_position targets") != std::string::npos,
             r.output);
  BOOST_TEST(!fs::exists(dir / "run"));
}
