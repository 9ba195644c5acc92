// `lamina search` end to end on a slice of Fashion-MNIST: identical results for any worker
// count, resuming after SIGKILL, pruning, narrowing, and bad search files.
#define BOOST_TEST_MODULE cli_search
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "search_support.hpp"
#include "test_support.hpp"

using namespace lamina::test;

namespace {

std::string search_file(const TempDir& dir, const std::string& extra, const std::string& name = "s.yaml") {
  write_file(dir / name, kSearchModel + extra);
  return (dir / name).string();
}

// Runs a search whole, then kills the same search three times at growing journal sizes and
// resumes it: the journal and the results equal the whole run's.
void killed_and_resumed(const std::string& combination) {
  TempDir dir;
  const auto s = search_file(dir, "trials: 16\nepochs: 6\nworkers: 2\n" + combination);
  const auto whole = run_lamina("search " + s + " --no-progress --out " + (dir / "whole").string());
  BOOST_TEST_REQUIRE(whole.status == 0, whole.output);
  const fs::path out = dir / "killed";
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::cout.flush();
    std::fflush(nullptr);  // or the child would print the parent's buffered output again
    const pid_t pid = ::fork();
    if (pid == 0) {
      const std::string o = out.string();
      ::freopen("/dev/null", "w", stdout);
      ::execl(kLamina.c_str(), "lamina", "search", s.c_str(), "--no-progress", "--out", o.c_str(), nullptr);
      ::_exit(127);
    }
    // Kill it once a few trials (a different number each time) are in the journal.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      if (fs::exists(out / "journal.jsonl") && count_lines(read_file(out / "journal.jsonl")) >= 2u + 4u * attempt)
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
  }
  const auto before = journal(out).size();
  BOOST_TEST(before < 16u, "the search finished before it could be killed");
  const auto resumed = run_lamina("search " + s + " --no-progress --out " + out.string());
  BOOST_TEST_REQUIRE(resumed.status == 0, resumed.output);
  BOOST_TEST(resumed.output.find("resuming with ") != std::string::npos);
  BOOST_TEST(journal(out) == journal(dir / "whole"), combination);
  BOOST_TEST(read_file(out / "results.csv") == read_file(dir / "whole" / "results.csv"));
}

}  // namespace

// The samplers and pruners a search can combine (the kill test runs random without pruning).
const char* const kCombinations[] = {
    "pruning: {type: asha, min_epochs: 2, reduction: 2}\n",
    "sampler: {type: tpe, startup_trials: 3}\npruning: {type: median, min_trials: 2}\n",
    "sampler: {type: tpe, startup_trials: 3}\npruning: {type: asha, min_epochs: 2, reduction: 2}\nlag: 0\n",
    "sampler: {type: tpe, startup_trials: 3}\npruning: none\n",
};

BOOST_AUTO_TEST_CASE(one_or_three_workers_give_the_same_search) {
  for (const char* combination : kCombinations) {
    TempDir dir;
    const auto s = search_file(dir, std::string("trials: 8\nepochs: 6\nseed: 3\n") + combination);
    const auto a = run_lamina("search " + s + " --workers 1 --no-progress --out " + (dir / "w1").string());
    const auto b = run_lamina("search " + s + " --workers 3 --no-progress --out " + (dir / "w3").string());
    BOOST_TEST_REQUIRE(a.status == 0, a.output);
    BOOST_TEST_REQUIRE(b.status == 0, b.output);
    BOOST_TEST(journal(dir / "w1") == journal(dir / "w3"), combination);
    BOOST_TEST(read_file(dir / "w1" / "results.csv") == read_file(dir / "w3" / "results.csv"));
    BOOST_TEST(journal(dir / "w1").size() == 8u);
  }
}

BOOST_AUTO_TEST_CASE(the_table_and_a_runnable_best_model) {
  TempDir dir;
  const auto s = search_file(dir, "trials: 4\nepochs: 2\nseed: 3\n");
  const auto a = run_lamina("search " + s + " --no-progress --out " + (dir / "w1").string());
  BOOST_TEST_REQUIRE(a.status == 0, a.output);
  // The text's table and a runnable best model.
  BOOST_TEST(a.output.find("Best-1 (val acc ") != std::string::npos);
  BOOST_TEST(a.output.find(" | optimizer.lr ") != std::string::npos);
  const auto best = run_lamina("train " + (dir / "w1" / "best.yaml").string() + " --epochs 1 --no-progress --out " +
                               (dir / "best-run").string());
  BOOST_TEST(best.status == 0, best.output);
}

BOOST_AUTO_TEST_CASE(pruning_stops_the_worst_trials_at_rungs) {
  TempDir dir;
  const auto s =
      search_file(dir, "trials: 9\nepochs: 8\nseed: 5\npruning: {type: asha, min_epochs: 2, reduction: 3}\n");
  const auto r = run_lamina("search " + s + " --no-progress --out " + (dir / "out").string());
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  int pruned = 0;
  for (const auto& [id, t] : journal(dir / "out")) {
    const auto epochs = t["scores"].size();
    if (t["status"] == "pruned") {
      ++pruned;
      BOOST_TEST((epochs == 2u || epochs == 6u), "pruned off a rung: " << t.dump());
    } else if (t["status"] == "ok") {
      BOOST_TEST(epochs == 8u);
    }
  }
  BOOST_TEST(pruned >= 3);
}

BOOST_AUTO_TEST_CASE(a_trial_that_ran_every_epoch_is_not_pruned_even_when_its_last_epoch_is_a_rung) {
  // Rungs at 1, 2 and 4 epochs of 4: a "stop" decided at epoch 4 stops nothing. Such trials
  // used to be labelled pruned.
  TempDir dir;
  const auto s =
      search_file(dir, "trials: 9\nepochs: 4\nseed: 5\npruning: {type: asha, min_epochs: 1, reduction: 2}\n");
  const auto r = run_lamina("search " + s + " --no-progress --out " + (dir / "out").string());
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  int full = 0, pruned = 0;
  for (const auto& [id, t] : journal(dir / "out")) {
    if (t["status"] == "pruned") {
      ++pruned;
      BOOST_TEST(t["scores"].size() < 4u, t.dump());
    }
    full += t["scores"].size() == 4u;
    if (t["scores"].size() == 4u) BOOST_TEST(t["status"] == "ok", t.dump());
    BOOST_TEST(t["round"] == 1);
  }
  BOOST_TEST(pruned > 0);
  BOOST_TEST(full > 0);
  // results.csv numbers the round as the journal does, and parses as CSV.
  const std::string csv = read_file(dir / "out" / "results.csv");
  BOOST_TEST(csv.find("\n1,") != std::string::npos);
  const std::string first = csv.substr(csv.find('\n') + 1);
  BOOST_TEST(first.substr(0, first.find('\n')).find(",1,") != std::string::npos, first);
}

BOOST_AUTO_TEST_CASE(choices_with_commas_are_quoted_in_results_csv) {
  TempDir dir;
  std::string text = kSearchModel;
  text.replace(text.find("  optimizer.lr: {log_uniform: [1.0e-4, 1.0]}\n"), 45,
               "  optimizer: {choice: [{type: sgd, lr: 0.1}, {type: adam, lr: 0.001}]}\n");
  write_file(dir / "s.yaml", text + "trials: 4\nepochs: 1\n");
  const auto r = run_lamina("search " + (dir / "s.yaml").string() + " --no-progress --out " + (dir / "o").string());
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  const std::string csv = read_file(dir / "o" / "results.csv");
  BOOST_TEST(csv.find("\"{type: adam, lr: 0.001}\"") != std::string::npos, csv);
  // Every row has as many fields as the header, read by an independent CSV reader.
  write_file(dir / "check.py",
             "import csv, sys\nrows = list(csv.reader(open(sys.argv[1])))\n"
             "assert len(rows) == 5, rows\nassert all(len(r) == len(rows[0]) == 8 for r in rows), rows\n"
             "assert rows[0][6] == 'optimizer', rows[0]\n"
             "assert all(r[6] in ('{type: sgd, lr: 0.1}', '{type: adam, lr: 0.001}') for r in rows[1:]), rows\n");
  const auto py = run("python3 " + (dir / "check.py").string() + " " + (dir / "o" / "results.csv").string());
  BOOST_TEST(py.status == 0, py.output << csv);
}

BOOST_AUTO_TEST_CASE(a_schedule_key_is_searchable_like_any_other) {
  TempDir dir;
  std::string text = kSearchModel;
  text.replace(text.find("  optimizer: {type: sgd, lr: 0.01}\n"), 35,
               "  optimizer: {type: sgd, lr: 0.01, schedule: {type: cosine}}\n");
  text.replace(text.find("  regularizer.lambda: {log_uniform: [1.0e-8, 1.0e-2]}\n"), 53,
               "  optimizer.schedule.warmup_epochs: {int_uniform: [0, 2]}\n");
  write_file(dir / "s.yaml", text + "trials: 4\nepochs: 2\n");
  const auto r = run_lamina("search " + (dir / "s.yaml").string() + " --no-progress --out " + (dir / "o").string());
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  std::set<std::string> seen;
  for (const auto& [id, t] : journal(dir / "o")) {
    seen.insert(t["values"]["optimizer.schedule.warmup_epochs"]["text"].get<std::string>());
  }
  BOOST_TEST(seen.size() >= 2u);
  BOOST_TEST(read_file(dir / "o" / "best.yaml").find("warmup_epochs:") != std::string::npos);
}

// The search model as a graph whose `add` merges two named layers, their widths searched over
// the two choice lists given ("[8, 24]"): trials whose widths differ fail at build.
std::string graph_search(const std::string& stem_units, const std::string& branch_units) {
  std::string text = kSearchModel;
  const std::string chain = "    - {type: affine, units: 30}\n    - {type: relu}\n";
  text.replace(text.find(chain), chain.size(),
               "    - {type: affine, units: 16, name: stem}\n    - {type: relu}\n"
               "    - {type: affine, units: 16, name: branch}\n    - {type: add, inputs: [stem, branch]}\n");
  text.replace(text.find("  regularizer.lambda: {log_uniform: [1.0e-8, 1.0e-2]}\n"), 53,
               "  layers.stem.units: {choice: " + stem_units + "}\n  layers.branch.units: {choice: " + branch_units +
                   "}\n");
  return text;
}

BOOST_AUTO_TEST_CASE(a_graph_model_is_searched_by_layer_name) {
  TempDir dir;
  write_file(dir / "s.yaml", graph_search("[8, 24]", "[8, 24]") + "trials: 6\nepochs: 1\n");
  const auto r = run_lamina("search " + (dir / "s.yaml").string() + " --no-progress --out " + (dir / "o").string());
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  int ok = 0, refused = 0;
  for (const auto& [id, t] : journal(dir / "o")) {
    const bool same = t["values"]["layers.stem.units"] == t["values"]["layers.branch.units"];
    // add needs one shape: trials with different widths fail at build, naming the merge.
    (same ? ok : refused) += t["status"] == (same ? "ok" : "failed");
    // A trial's model is re-read from the file with its values: the message points at the line.
    if (!same) {
      const auto error = t["error"].get<std::string>();
      BOOST_TEST(error.find("s.yaml:7:7: layers.3 (add from plugin 'merge'): add needs inputs of one shape") != std::string::npos, error);
    }
  }
  BOOST_TEST(ok + refused == 6);
  BOOST_TEST(ok >= 1);
  BOOST_TEST(read_file(dir / "o" / "best.yaml").find("name: stem") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(narrowing_rounds_sample_inside_the_top_span) {
  // Narrowing is the core's: it works with any sampler (TPE's second round sees the first
  // round's trials that fall inside the narrowed ranges).
  for (const char* sampler : {"random", "{type: tpe, startup_trials: 2}"}) {
    TempDir dir;
    const auto s = search_file(
        dir, std::string("trials: 6\nepochs: 2\nrounds: {count: 2, keep: 0.5}\nsampler: ") + sampler + "\n");
    const auto r = run_lamina("search " + s + " --no-progress --out " + (dir / "out").string());
    BOOST_TEST_REQUIRE(r.status == 0, r.output);
    BOOST_TEST(r.output.find("round 2: optimizer.lr [") != std::string::npos);
    const auto rounds = nlohmann::json::parse(read_file(dir / "out" / "rounds.json"));
    const auto range = rounds[1]["space"]["optimizer.lr"]["range"];
    const auto j = journal(dir / "out");
    BOOST_TEST(j.size() == 12u);
    for (const auto& [id, t] : j) {
      if (t["round"] != 2) continue;  // rounds count from 1, in the journal as in results.csv
      const double lr = t["values"]["optimizer.lr"]["number"].get<double>();
      BOOST_TEST((lr >= range[0].get<double>() && lr <= range[1].get<double>()), sampler);
    }
    BOOST_TEST(range[1].get<double>() - range[0].get<double>() < 1.0 - 1e-4);
  }
}

BOOST_AUTO_TEST_CASE(a_killed_search_resumes_without_losing_or_rerunning_a_trial) {
  for (const char* combination : kCombinations) killed_and_resumed(combination);
}

BOOST_AUTO_TEST_CASE(a_search_file_of_the_old_format_resumes_its_journal) {
  // tests/data/search-journal-v2.jsonl was written by the driver before samplers and pruners
  // were plugins (at f3e26d5), for this file (`strategy: random_search`, the pruning keys of
  // then). Cut to its first two trials, it resumes: the fingerprint is the same, and the third
  // trial run now is the one run then (random sampling draws what it drew).
  TempDir dir;
  const auto s = search_file(dir, "trials: 3\nepochs: 2\nseed: 4\nstrategy: random_search\npruning: {type: asha}\n");
  fs::create_directories(dir / "o");
  const std::string old_whole = read_file(fs::path(LAMINA_TEST_DATA_DIR) / "search-journal-v2.jsonl");
  write_file(dir / "o" / "journal.jsonl", old_whole);
  const auto expected = journal(dir / "o");
  BOOST_TEST_REQUIRE(expected.size() == 3u);
  const std::string old_cut = old_whole.substr(0, old_whole.rfind('\n', old_whole.size() - 2) + 1);
  write_file(dir / "o" / "journal.jsonl", old_cut);
  const auto r = run_lamina("search " + s + " --no-progress --out " + (dir / "o").string());
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  BOOST_TEST(r.output.find("resuming with 2 finished trials") != std::string::npos, r.output);
  BOOST_TEST(read_file(dir / "o" / "journal.jsonl").starts_with(old_cut));
  BOOST_TEST(journal(dir / "o") == expected);
  // Any other strategy is refused with the new keys named.
  const auto other = search_file(dir, "trials: 3\nepochs: 2\nstrategy: hyperband\n", "other.yaml");
  const auto refused = run_lamina("search " + other + " --no-progress --out " + (dir / "x").string());
  BOOST_TEST(refused.status == 2);
  BOOST_TEST(
      refused.output.find("other.yaml:16:11: strategy: `strategy:` is replaced by `sampler:`") != std::string::npos,
      refused.output);
}

BOOST_AUTO_TEST_CASE(a_torn_last_line_is_dropped_and_a_changed_search_refused) {
  TempDir dir;
  const auto s = search_file(dir, "trials: 3\nepochs: 1\n");
  BOOST_TEST_REQUIRE(run_lamina("search " + s + " --no-progress --out " + (dir / "o").string()).status == 0);
  const std::string full = read_file(dir / "o" / "journal.jsonl");
  write_file(dir / "o" / "journal.jsonl", full.substr(0, full.size() - 20));  // tear the last line
  const auto r = run_lamina("search " + s + " --no-progress --out " + (dir / "o").string());
  BOOST_TEST(r.status == 0, r.output);
  BOOST_TEST(r.output.find("resuming with 2 finished trials") != std::string::npos, r.output);
  BOOST_TEST(journal(dir / "o").size() == 3u);  // the torn trial was rerun, once
  const auto changed = search_file(dir, "trials: 3\nepochs: 2\n");
  const auto c = run_lamina("search " + changed + " --no-progress --out " + (dir / "o").string());
  BOOST_TEST(c.status == 2);
  BOOST_TEST(c.output.find("journal.jsonl: this journal belongs to another search") != std::string::npos, c.output);
}

BOOST_AUTO_TEST_CASE(a_second_search_in_a_running_searchs_folder_is_refused) {
  TempDir dir;
  const auto s = search_file(dir, "trials: 2\nepochs: 1\n");
  BOOST_TEST_REQUIRE(run_lamina("search " + s + " --no-progress --out " + (dir / "o").string()).status == 0);
  const std::string before = read_file(dir / "o" / "journal.jsonl");
  // This process holds the lock a running search would hold.
  const int fd = ::open((dir / "o" / "journal.jsonl").c_str(), O_RDONLY | O_CLOEXEC);
  BOOST_TEST_REQUIRE(fd >= 0);
  BOOST_TEST_REQUIRE(::flock(fd, LOCK_EX) == 0);
  const auto busy = run_lamina("search " + s + " --no-progress --out " + (dir / "o").string());
  BOOST_TEST(busy.status == 2, busy.output);
  BOOST_TEST(busy.output.find("journal.jsonl: another lamina search is running in this folder") != std::string::npos,
             busy.output);
  BOOST_TEST(read_file(dir / "o" / "journal.jsonl") == before);
  ::close(fd);
  const auto free = run_lamina("search " + s + " --no-progress --out " + (dir / "o").string());
  BOOST_TEST(free.status == 0, free.output);
  BOOST_TEST(free.output.find("resuming with 2 finished trials") != std::string::npos, free.output);
}

BOOST_AUTO_TEST_CASE(bad_search_files_name_the_line) {
  TempDir dir;
  auto error_of = [&](const std::string& text) {
    write_file(dir / "bad.yaml", text);
    const auto r = run_lamina("search " + (dir / "bad.yaml").string() + " --no-progress --out " + (dir / "o").string());
    BOOST_TEST(r.status == 2, r.output);
    BOOST_TEST(!fs::exists(dir / "o"), "a search folder was left behind");
    return r.output;
  };
  const std::string head = kSearchModel.substr(0, kSearchModel.find("space:"));
  BOOST_TEST(error_of(head + "space:\n  optimizer.rate: {uniform: [0.1, 0.2]}\n")
                 .find("bad.yaml:12:3: space.optimizer.rate: the value 0.1 does not fit the model") !=
             std::string::npos);
  BOOST_TEST(error_of(head + "space:\n  optimizer.lr: {uniform: [0.2, 0.1]}\n")
                 .find("bad.yaml:12:27: space.optimizer.lr: lo must be below hi, found [0.2, 0.1]") !=
             std::string::npos);
  BOOST_TEST(error_of(head + "space:\n  optimizer.lr: {log_uniform: [0, 0.1]}\n")
                 .find("space.optimizer.lr: a log range must be above zero") != std::string::npos);
  BOOST_TEST(error_of(head + "space:\n  layers.0.units: {choice: [10, many]}\n")
                 .find("space.layers.0.units: the value many does not fit the model") != std::string::npos);
  BOOST_TEST(error_of(head + "space:\n  optimizer.lr: {gaussian: [0, 1]}\n").find("unknown distribution 'gaussian'") !=
             std::string::npos);
  BOOST_TEST(error_of(kSearchModel + "trails: 5\n").find("unknown key 'trails' (did you mean 'trials'?)") !=
             std::string::npos);
  BOOST_TEST(error_of(kSearchModel + "workers: 0\n").find("workers: expected an integer in [1, 256], found '0'") !=
             std::string::npos);
  std::string no_val = kSearchModel;
  no_val.replace(no_val.find(", validation_split: 0.2"), 22, "");
  BOOST_TEST(error_of(no_val).find("the base model has no validation split") != std::string::npos);
  BOOST_TEST(error_of(head + "space:\n  data.train_limit: {int_uniform: [10, 20]}\n").find("cannot vary this path") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(plot_draws_a_search) {
  TempDir dir;
  const auto s = search_file(dir, "trials: 4\nepochs: 2\n");
  BOOST_TEST_REQUIRE(run_lamina("search " + s + " --no-progress --out " + (dir / "o").string()).status == 0);
  const auto r = run_lamina("plot " + (dir / "o").string() + " --out " + (dir / "s.png").string());
  BOOST_TEST(r.status == 0, r.output);
  BOOST_TEST(read_file(dir / "s.png").substr(1, 3) == "PNG");
}

BOOST_AUTO_TEST_CASE(ctrl_c_stops_cleanly_and_the_search_resumes) {
  TempDir dir;
  const auto s = search_file(dir, "trials: 40\nepochs: 6\n");
  const fs::path out = dir / "o";
  const fs::path log = dir / "log";
  std::cout.flush();
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::freopen(log.c_str(), "w", stdout);
    ::execl(kLamina.c_str(), "lamina", "search", s.c_str(), "--no-progress", "--out", out.c_str(), nullptr);
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline &&
         !(fs::exists(out / "journal.jsonl") && count_lines(read_file(out / "journal.jsonl")) >= 4u)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(pid, SIGINT);
  int status = 0;
  ::waitpid(pid, &status, 0);
  BOOST_TEST(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 130);
  BOOST_TEST(read_file(log).find("interrupted: ") != std::string::npos, read_file(log));
  BOOST_TEST(!fs::exists(out / "results.csv"));
  const auto r = run_lamina("search " + s + " --no-progress --out " + out.string());
  BOOST_TEST(r.status == 0, r.output);
  BOOST_TEST(journal(out).size() == 40u);
}

BOOST_AUTO_TEST_CASE(a_diverging_trial_is_recorded_and_the_search_goes_on) {
  TempDir dir;
  std::string text = kSearchModel;
  text.replace(text.find("{log_uniform: [1.0e-4, 1.0]}"), 28, "{log_uniform: [1.0e-2, 1.0e+6]}");
  write_file(dir / "s.yaml", text + "trials: 6\nepochs: 2\n");
  const auto r = run_lamina("search " + (dir / "s.yaml").string() + " --no-progress --out " + (dir / "o").string());
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  int diverged = 0, ok = 0;
  for (const auto& [id, t] : journal(dir / "o")) {
    diverged += t["status"] == "diverged";
    ok += t["status"] == "ok";
    if (t["status"] == "diverged") BOOST_TEST(t["score"].is_null());
  }
  BOOST_TEST(diverged > 0);
  BOOST_TEST(ok > 0);
  BOOST_TEST(count_lines(read_file(dir / "o" / "results.csv")) == 1u + static_cast<std::size_t>(ok));
}

// A search in which every trial fails has nothing to rank: exit 1 with the first failure's words
// and a count of each status, not a silent success.
BOOST_AUTO_TEST_CASE(a_search_whose_every_trial_fails_says_so_and_exits_1) {
  TempDir dir;
  write_file(dir / "s.yaml", graph_search("[8]", "[24]") + "trials: 3\nepochs: 1\n");
  const auto r = run_lamina("search " + (dir / "s.yaml").string() + " --no-progress --out " + (dir / "o").string());
  BOOST_TEST(r.status == 1, r.output);
  BOOST_TEST(r.output.find("lamina search: failed: no trial of " + (dir / "o" / "journal.jsonl").string() +
                           " finished with a score (3 failed); nothing to rank") == std::string::npos);
  BOOST_TEST(r.output.find("finished with a score (3 failed); the first failure: trial 0: ") != std::string::npos,
             r.output);
  BOOST_TEST(r.output.find("add needs inputs of one shape") != std::string::npos, r.output);
  BOOST_TEST(!fs::exists(dir / "o" / "best.yaml"));
}
