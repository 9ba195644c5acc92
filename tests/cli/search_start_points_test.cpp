// A search that starts from known points: `enqueue:` (the first trials as given, flat and
// conditional) and `warm_start:` (an earlier search's trials in every proposal's history,
// counted; a mismatched metric refused).
#define BOOST_TEST_MODULE cli_search_start_points
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "search_support.hpp"
#include "test_support.hpp"

using namespace lamina::test;


BOOST_AUTO_TEST_CASE(enqueued_points_are_the_first_trials_as_given) {
  TempDir dir;
  const std::string extra =
      "trials: 6\nepochs: 2\nseed: 4\nsampler: {type: tpe, startup_trials: 2}\n"
      "enqueue:\n"
      "  - {optimizer.lr: 0.05, regularizer.lambda: 1.0e-6}\n"
      "  - {optimizer.lr: 0.2, regularizer.lambda: 3.0e-5}\n";
  const std::string out = search_named(dir, "a", extra, "--workers 1");
  BOOST_TEST(out.find("enqueue: trials 0 to 1 take the search file's points") != std::string::npos, out);
  const auto j = journal(dir / "a");
  BOOST_TEST(j.at(0)["values"]["optimizer.lr"]["text"] == "0.05");
  BOOST_TEST(j.at(0)["values"]["regularizer.lambda"]["text"] == "1.0e-6");
  BOOST_TEST(j.at(1)["values"]["optimizer.lr"]["number"] == 0.2);
  BOOST_TEST(j.at(1)["values"]["regularizer.lambda"]["number"] == 3.0e-5);
  BOOST_TEST(j.size() == 6u);
  // The points count as trials for what follows, and the search is the same for 3 workers.
  search_named(dir, "b", extra, "--workers 3");
  BOOST_TEST(journal(dir / "a") == journal(dir / "b"));
}

BOOST_AUTO_TEST_CASE(an_enqueued_point_of_a_conditional_space_names_its_branch) {
  TempDir dir;
  const std::string base = kSearchModel.substr(0, kSearchModel.find("space:\n"));
  write_file(dir / "c.yaml", base +
                                 "space:\n"
                                 "  optimizer:\n"
                                 "    choice:\n"
                                 "      - {type: sgd, lr: {log_uniform: [1.0e-3, 1.0]}}\n"
                                 "      - {type: momentum, lr: {log_uniform: [1.0e-3, 1.0e-1]}, momentum: {uniform: [0.8, 0.99]}}\n"
                                 "trials: 3\nepochs: 1\n"
                                 "enqueue: [{optimizer: momentum, optimizer@momentum.lr: 0.01, optimizer@momentum.momentum: 0.9}]\n");
  const auto r = run_lamina("search " + (dir / "c.yaml").string() + " --no-progress --out " + (dir / "c").string());
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  const auto j = journal(dir / "c");
  BOOST_TEST(j.at(0)["values"].size() == 3u);
  BOOST_TEST(j.at(0)["values"]["optimizer"]["number"] == 1.0);
  BOOST_TEST(j.at(0)["values"]["optimizer@momentum.momentum"]["text"] == "0.9");
  BOOST_TEST(r.output.find("trial    0 (round 1) ok       val_accuracy") != std::string::npos, r.output);
  BOOST_TEST(r.output.find("| optimizer momentum | optimizer@momentum.lr 0.01 | optimizer@momentum.momentum 0.9") !=
                 std::string::npos,
             r.output);
}

BOOST_AUTO_TEST_CASE(a_warm_start_begins_the_history_with_an_earlier_searchs_trials) {
  TempDir dir;
  const std::string tpe = "epochs: 2\nseed: 7\nsampler: {type: tpe, startup_trials: 4}\n";
  search_named(dir, "first", "trials: 8\n" + tpe);
  const std::string cold = search_named(dir, "cold", "trials: 3\n" + tpe);
  const std::string warm = search_named(dir, "warm", "trials: 3\nwarm_start: first\n" + tpe);
  BOOST_TEST(warm.find("warm start: 8 of the 8 trials of " + (dir / "first").string() +
                       " are points of this space and begin every proposal's history") != std::string::npos,
             warm);
  BOOST_TEST(cold.find("warm start") == std::string::npos);
  // Cold, trial 0 is one of TPE's random start-up draws; warm, TPE has 8 trials to model: the
  // proposals differ, and the other search's trials are not this one's.
  const auto c = journal(dir / "cold"), w = journal(dir / "warm");
  BOOST_TEST(c.at(0)["values"] != w.at(0)["values"]);
  BOOST_TEST(w.size() == 3u);
  BOOST_TEST(count_lines(read_file(dir / "warm" / "results.csv")) == 4u);
  // Rerun: the same search resumes (nothing to do), the same proposals.
  const auto again = run_lamina("search " + (dir / "warm.yaml").string() + " --no-progress --out " + (dir / "warm").string());
  BOOST_TEST(again.status == 0, again.output);
  BOOST_TEST(journal(dir / "warm") == w);

  // A narrower space takes only the trials that lie in it.
  write_file(dir / "narrow.yaml", kSearchModel.substr(0, kSearchModel.find("space:\n")) +
                                      "space:\n  optimizer.lr: {log_uniform: [1.0e-2, 1.0]}\n"
                                      "  regularizer.lambda: {log_uniform: [1.0e-8, 1.0e-2]}\n"
                                      "trials: 2\nwarm_start: first\n" + tpe);
  const auto narrow = run_lamina("search " + (dir / "narrow.yaml").string() + " --no-progress --out " +
                                 (dir / "narrow").string());
  BOOST_TEST_REQUIRE(narrow.status == 0, narrow.output);
  std::size_t inside = 0;
  for (const auto& [id, t] : journal(dir / "first")) inside += t["values"]["optimizer.lr"]["number"] >= 1.0e-2;
  BOOST_TEST(narrow.output.find("warm start: " + std::to_string(inside) + " of the 8 trials") != std::string::npos,
             narrow.output);
  BOOST_TEST(inside < 8u);

  // Scores of another metric are not this search's.
  write_file(dir / "loss.yaml", kSearchModel + "trials: 2\nmetric: val_loss\nwarm_start: first\n" + tpe);
  const auto loss = run_lamina("search " + (dir / "loss.yaml").string() + " --no-progress --out " + (dir / "loss").string());
  BOOST_TEST(loss.status == 2, loss.output);
  BOOST_TEST(loss.output.find("ranked its trials by val_accuracy, this search by val_loss") != std::string::npos,
             loss.output);
  BOOST_TEST(!fs::exists(dir / "loss" / "journal.jsonl"));
}
