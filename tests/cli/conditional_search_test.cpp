// `lamina search` over a conditional space (an optimizer chosen with its own ranges, a choice
// nested in a branch): the same journal for 1 and 3 workers, only the chosen branch's values
// in each trial, empty cells in results.csv where a leaf is inactive, a runnable best model, a
// resumed search equal to an uninterrupted one, and a bad leaf named by its line.
#define BOOST_TEST_MODULE cli_conditional_search
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

#include "search_support.hpp"
#include "test_support.hpp"

using namespace lamina::test;

namespace {

// kSearchModel's model with the optimizer as a conditional choice.
std::string conditional(const std::string& extra) {
  const std::string base = kSearchModel.substr(0, kSearchModel.find("space:\n"));
  return base +
         "space:\n"
         "  optimizer:\n"
         "    choice:\n"
         "      - {type: sgd, lr: {log_uniform: [1.0e-3, 1.0]}}\n"
         "      - {type: momentum, lr: {log_uniform: [1.0e-3, 1.0e-1]}, momentum: {uniform: [0.8, 0.99]}}\n"
         "      - type: adam\n"
         "        lr: {choice: [1.0e-3, {log_uniform: [1.0e-4, 1.0e-2]}]}\n"
         "  regularizer.lambda: {log_uniform: [1.0e-8, 1.0e-2]}\n" +
         extra;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(tpe_on_a_conditional_space_gives_one_journal_for_any_worker_count) {
  TempDir dir;
  write_file(dir / "s.yaml", conditional("trials: 12\nepochs: 2\nseed: 5\nsampler: {type: tpe, startup_trials: 4}\n"));
  const auto a = run_lamina("search " + (dir / "s.yaml").string() + " --workers 1 --no-progress --out " + (dir / "w1").string());
  const auto b = run_lamina("search " + (dir / "s.yaml").string() + " --workers 3 --no-progress --out " + (dir / "w3").string());
  BOOST_TEST_REQUIRE(a.status == 0, a.output);
  BOOST_TEST_REQUIRE(b.status == 0, b.output);
  BOOST_TEST(journal(dir / "w1") == journal(dir / "w3"));
  BOOST_TEST(read_file(dir / "w1" / "results.csv") == read_file(dir / "w3" / "results.csv"));
  BOOST_TEST(a.output.find("round 1: optimizer {sgd, momentum, adam} | optimizer@sgd.lr [0.001, 1] (log_uniform)") !=
                 std::string::npos,
             a.output);

  // Each trial holds its branch's leaves and no other's; every branch was tried.
  std::map<std::string, int> branches;
  for (const auto& [id, t] : journal(dir / "w1")) {
    const auto& v = t["values"];
    const std::string text = v["optimizer"]["text"];
    const std::string type = text.substr(7, text.find(',') - 7);  // "{type: sgd, ..."
    ++branches[type];
    BOOST_TEST(v.contains("regularizer.lambda"));
    BOOST_TEST(v.contains("optimizer@sgd.lr") == (type == "sgd"), id);
    BOOST_TEST(v.contains("optimizer@momentum.lr") == (type == "momentum"), id);
    BOOST_TEST(v.contains("optimizer@momentum.momentum") == (type == "momentum"), id);
    BOOST_TEST(v.contains("optimizer@adam.lr") == (type == "adam"), id);
    // The nested choice's distribution is active only where adam chose it (index 1).
    const bool nested = type == "adam" && v["optimizer@adam.lr"]["number"] == 1.0;
    BOOST_TEST(v.contains("optimizer@adam.lr@1") == nested, id);
  }
  BOOST_TEST(branches.size() == 3u);

  // results.csv: a column per leaf, empty where it is inactive; the branch by its name.
  const auto csv = lines_of(read_file(dir / "w1" / "results.csv"));
  BOOST_TEST(csv[0] ==
             "rank,trial,round,status,epochs,val_accuracy,optimizer,optimizer@sgd.lr,optimizer@momentum.lr,"
             "optimizer@momentum.momentum,optimizer@adam.lr,optimizer@adam.lr@1,regularizer.lambda");
  for (std::size_t i = 1; i < csv.size(); ++i) {
    std::vector<std::string> cells;
    std::istringstream row(csv[i]);
    for (std::string c; std::getline(row, c, ',');) cells.push_back(c);
    cells.resize(13);
    const std::string& type = cells[6];
    BOOST_TEST((type == "sgd" || type == "momentum" || type == "adam"), csv[i]);
    BOOST_TEST(cells[7].empty() == (type != "sgd"), csv[i]);
    BOOST_TEST(cells[8].empty() == (type != "momentum"), csv[i]);
    BOOST_TEST(cells[9].empty() == (type != "momentum"), csv[i]);
    BOOST_TEST(cells[10].empty() == (type != "adam"), csv[i]);
    BOOST_TEST(!cells[12].empty(), csv[i]);
  }

  // The best model is the base with the best branch written in, and trains.
  const std::string best = read_file(dir / "w1" / "best.yaml");
  BOOST_TEST(best.find("log_uniform") == std::string::npos, best);
  const auto trained = run_lamina("train " + (dir / "w1" / "best.yaml").string() + " --epochs 1 --no-progress --out " +
                                  (dir / "best-run").string());
  BOOST_TEST(trained.status == 0, trained.output);
}

BOOST_AUTO_TEST_CASE(a_resumed_conditional_search_equals_an_uninterrupted_one) {
  TempDir dir;
  write_file(dir / "s.yaml", conditional("trials: 8\nepochs: 2\nseed: 2\nsampler: {type: tpe, startup_trials: 3}\n"));
  const auto whole = run_lamina("search " + (dir / "s.yaml").string() + " --no-progress --out " + (dir / "whole").string());
  BOOST_TEST_REQUIRE(whole.status == 0, whole.output);
  // The journal as a kill after four trials leaves it: its header and the first four lines.
  const auto lines = lines_of(read_file(dir / "whole" / "journal.jsonl"));
  std::string cut;
  for (std::size_t i = 0; i < 5; ++i) cut += lines[i] + "\n";
  fs::create_directories(dir / "cut");
  write_file(dir / "cut" / "journal.jsonl", cut);
  const auto resumed = run_lamina("search " + (dir / "s.yaml").string() + " --no-progress --out " + (dir / "cut").string());
  BOOST_TEST_REQUIRE(resumed.status == 0, resumed.output);
  BOOST_TEST(resumed.output.find("resuming with 4 finished trials") != std::string::npos, resumed.output);
  BOOST_TEST(journal(dir / "cut") == journal(dir / "whole"));
  BOOST_TEST(read_file(dir / "cut" / "results.csv") == read_file(dir / "whole" / "results.csv"));
}

BOOST_AUTO_TEST_CASE(a_bad_leaf_in_any_branch_is_named_by_its_line_before_anything_runs) {
  TempDir dir;
  std::string text = conditional("trials: 4\nepochs: 1\n");
  // The momentum branch's momentum range reaches 1.5, which the optimizer refuses.
  text.replace(text.find("[0.8, 0.99]"), 11, "[0.8, 1.5]");
  write_file(dir / "s.yaml", text);
  const auto r = run_lamina("search " + (dir / "s.yaml").string() + " --no-progress --out " + (dir / "out").string());
  BOOST_TEST(r.status == 2, r.output);
  const auto line = std::to_string(lines_of(kSearchModel.substr(0, kSearchModel.find("space:\n"))).size() + 5);
  BOOST_TEST(r.output.find("s.yaml:" + line + ":") != std::string::npos, r.output);
  BOOST_TEST(r.output.find("space.optimizer@momentum.momentum: the value 1.5 does not fit the model") !=
                 std::string::npos,
             r.output);
  BOOST_TEST(!fs::exists(dir / "out" / "journal.jsonl"));
  // A leaf that names a key the branch's type does not have.
  text = conditional("trials: 4\nepochs: 1\n");
  text.replace(text.find("lr: {choice"), 2, "rate");
  write_file(dir / "t.yaml", text);
  const auto t = run_lamina("search " + (dir / "t.yaml").string() + " --no-progress --out " + (dir / "out2").string());
  BOOST_TEST(t.status == 2, t.output);
  BOOST_TEST(t.output.find("space.optimizer@adam.rate: the value 1.0e-3 does not fit the model") != std::string::npos,
             t.output);
}
