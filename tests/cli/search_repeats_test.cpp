// `repeats: N`: each trial trains N seeds in step; its score after each epoch is their mean (what
// the pruner judges), the journal keeps each seed's scores, results.csv the standard deviation;
// the same for 1 and 3 workers; `repeats: 1` is a search without the key.
#define BOOST_TEST_MODULE cli_search_repeats
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "search_support.hpp"
#include "test_support.hpp"

using namespace lamina::test;


BOOST_AUTO_TEST_CASE(a_repeated_trial_scores_the_mean_of_its_seeds_for_any_worker_count) {
  TempDir dir;
  const std::string extra =
      "trials: 6\nepochs: 4\nseed: 3\nrepeats: 3\npruning: {type: asha, min_epochs: 1, reduction: 2}\n";
  const std::string out = search_named(dir, "w1", extra, "--workers 1");
  search_named(dir, "w3", extra, "--workers 3");
  BOOST_TEST(out.find("4 epochs each on 3 seeds (the score is their mean)") != std::string::npos, out);
  BOOST_TEST(journal(dir / "w1") == journal(dir / "w3"));
  BOOST_TEST(read_file(dir / "w1" / "results.csv") == read_file(dir / "w3" / "results.csv"));

  std::map<long, double> sd;
  bool pruned = false;
  for (const auto& [id, t] : journal(dir / "w1")) {
    const auto& seeds = t["repeat_scores"];
    BOOST_TEST_REQUIRE(seeds.size() == 3u, id);
    const auto& scores = t["scores"];
    pruned = pruned || t["status"] == "pruned";
    for (std::size_t e = 0; e < scores.size(); ++e) {
      double mean = 0;
      for (const auto& s : seeds) {
        BOOST_TEST_REQUIRE(s.size() == scores.size());
        mean += s[e].get<double>() / 3;
      }
      BOOST_TEST(std::abs(mean - scores[e].get<double>()) < 1e-12, id << " epoch " << e);
    }
    // The seeds differ: they are three trainings, not one counted thrice.
    BOOST_TEST((seeds[0] != seeds[1] || seeds[1] != seeds[2]), id);
    double m = 0, ss = 0;
    for (const auto& s : seeds) m += s.back().get<double>() / 3;
    for (const auto& s : seeds) ss += (s.back().get<double>() - m) * (s.back().get<double>() - m);
    sd[id] = std::sqrt(ss / 2);
  }
  BOOST_TEST(pruned, "ASHA pruned nothing: the check of pruning on the mean proves less");
  std::istringstream csv(read_file(dir / "w1" / "results.csv"));
  std::string line;
  std::getline(csv, line);
  BOOST_TEST(line.rfind("rank,trial,round,status,epochs,val_accuracy,val_accuracy_sd,", 0) == 0u, line);
  while (std::getline(csv, line)) {
    std::vector<std::string> cells;
    std::istringstream row(line);
    for (std::string c; std::getline(row, c, ',');) cells.push_back(c);
    BOOST_TEST(std::abs(std::stod(cells[6]) - sd.at(std::stol(cells[1]))) < 1e-6, line);
  }
}

BOOST_AUTO_TEST_CASE(one_repeat_is_a_search_without_the_key) {
  TempDir dir;
  search_named(dir, "plain", "trials: 3\nepochs: 2\n", "");
  search_named(dir, "one", "trials: 3\nepochs: 2\nrepeats: 1\n", "");
  BOOST_TEST(journal(dir / "plain") == journal(dir / "one"));
  const auto header = [&](const std::string& name) {
    const std::string j = read_file(dir / name / "journal.jsonl");
    return j.substr(0, j.find('\n'));
  };
  BOOST_TEST(header("plain") == header("one"));  // the same fingerprint: the same search
  BOOST_TEST(read_file(dir / "one" / "journal.jsonl").find("repeat_scores") == std::string::npos);
}
