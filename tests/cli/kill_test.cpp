// SIGKILL at random moments during `lamina train` and `lamina search`: after every kill each
// file of the run folder is a complete version (the previous one or the new one), the journal's
// complete lines survive, and resuming ends with exactly the files of an uninterrupted run.
#define BOOST_TEST_MODULE cli_kill
#include <signal.h>
#include <sys/wait.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include "runtime/safetensors.hpp"
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "test_support.hpp"

using namespace lamina::test;
using Clock = std::chrono::steady_clock;

namespace {

// BatchNorm, dropout, Adam and per-step losses: every kind of state a resume must restore.
const std::string kModel =
    "data: {source: fashion-mnist, train_limit: 10000, test_limit: 1000, validation_split: 0.1}\n"
    "layers:\n"
    "  - {type: affine, units: 64}\n"
    "  - {type: batchnorm}\n"
    "  - {type: relu}\n"
    "  - {type: dropout, ratio: 0.2}\n"
    "  - {type: affine, units: 10}\n"
    "loss: softmax_cross_entropy\n"
    "optimizer: {type: adam, lr: 0.001}\n"
    "train: {epochs: 30, batch_size: 50, seed: 7, log_every: 10}\n";

struct Outcome {
  bool killed = false;
  double seconds = 0;
};

// Starts `lamina ARGS...` and SIGKILLs it after `after` seconds unless it has finished by then.
Outcome run_and_kill(const std::vector<std::string>& args, double after) {
  std::cout.flush();
  std::fflush(nullptr);  // or the child would print the parent's buffered output again
  const auto start = Clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv{const_cast<char*>("lamina")};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::freopen("/dev/null", "w", stdout);
    ::freopen("/dev/null", "w", stderr);
    ::execv(kLamina.c_str(), argv.data());
    ::_exit(127);
  }
  int status = 0;
  const auto deadline = start + std::chrono::duration<double>(after);
  while (Clock::now() < deadline) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      BOOST_TEST_REQUIRE((WIFEXITED(status) && WEXITSTATUS(status) == 0), "lamina failed on its own");
      return {false, std::chrono::duration<double>(Clock::now() - start).count()};
    }
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return {WIFSIGNALED(status), after};
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Every file a killed run left is whole: the text files are prefixes (in complete lines) of the
// uninterrupted run's, the JSON and safetensors files parse, and nothing else is there.
void check_files_are_whole(const fs::path& run, const fs::path& reference) {
  for (const auto& entry : fs::recursive_directory_iterator(run)) {
    if (entry.is_directory()) {
      const auto name = entry.path().filename().string();
      BOOST_TEST((name == "checkpoint.next" || name == "checkpoint.commit"), "unexpected folder " << entry.path());
      continue;
    }
    const auto name = entry.path().filename().string();
    const std::string text = read_file(entry.path());
    BOOST_TEST_CONTEXT(entry.path()) {
      if (name.front() == '.') {
        BOOST_TEST(name.ends_with(".tmp"));  // named only once complete; removed by the resume
      } else if (name == "model.yaml") {
        BOOST_TEST(text == read_file(reference / name));
      } else if (name == "metrics.csv" || name == "iterations.csv") {
        BOOST_TEST((!text.empty() && text.back() == '\n'));
        BOOST_TEST(read_file(reference / name).starts_with(text));
      } else if (name == "metrics.json") {
        const auto epochs = nlohmann::json::parse(text).at("epochs");
        const auto all = nlohmann::json::parse(read_file(reference / name)).at("epochs");
        BOOST_TEST_REQUIRE(epochs.size() <= all.size());
        for (std::size_t i = 0; i < epochs.size(); ++i) BOOST_TEST(epochs[i] == all[i]);
      } else if (name == "trainer.json" || name == "run.json") {
        BOOST_CHECK_NO_THROW(nlohmann::json::parse(text));
      } else if (name.ends_with(".safetensors")) {
        BOOST_CHECK_NO_THROW(lamina::read_safetensors(entry.path()));
      } else {
        BOOST_ERROR("unexpected file " << entry.path());
      }
    }
  }
}

// Up to kAttempts kills, then a run left to finish. Each kill comes between 10% and 30% of an
// uninterrupted run's time (past the start-up, mostly), so at least three attempts are killed
// before one can finish.
constexpr int kAttempts = 6;

double kill_time(std::mt19937_64& rng, double reference_seconds) {
  return std::uniform_real_distribution<double>(0.1 * reference_seconds, 0.3 * reference_seconds)(rng);
}

std::mt19937_64 seeded_rng() {
  const auto seed = std::random_device{}();
  BOOST_TEST_MESSAGE("kill times drawn with seed " << seed);
  return std::mt19937_64(seed);
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_training_run_killed_at_random_moments_resumes_to_the_same_files) {
  TempDir dir;
  write_file(dir / "model.yaml", kModel);
  const std::string model = (dir / "model.yaml").string(), whole = (dir / "whole").string(),
                    killed = (dir / "killed").string();
  const auto reference = run_and_kill({"train", model, "--threads", "1", "--no-progress", "--out", whole}, 600).seconds;

  auto rng = seeded_rng();
  int kills = 0, mid_run = 0;
  for (int attempt = 0; attempt <= kAttempts; ++attempt) {
    const bool started = fs::exists(fs::path(killed) / "model.yaml");
    std::vector<std::string> args{"train", "--resume", killed, "--threads", "1", "--no-progress"};
    if (!started) args = {"train", model, "--threads", "1", "--no-progress", "--out", killed};
    const double after = attempt == kAttempts ? 600 : kill_time(rng, reference);
    if (!run_and_kill(args, after).killed) break;
    ++kills;
    if (fs::exists(killed)) check_files_are_whole(killed, whole);
    if (fs::exists(fs::path(killed) / "trainer.json")) ++mid_run;
  }
  BOOST_TEST_MESSAGE(kills << " kills before the run finished, " << mid_run << " after a checkpoint");
  BOOST_TEST(kills >= 2);  // 6 in practice; >= 3 by construction unless the reference run was slowed
  for (const char* name : {"metrics.csv", "metrics.json", "iterations.csv", "model.safetensors",
                           "optimizer.safetensors", "trainer.json", "model.yaml"}) {
    BOOST_TEST(read_file(fs::path(killed) / name) == read_file(fs::path(whole) / name), name);
  }
  for (const auto& entry : fs::directory_iterator(killed)) {
    BOOST_TEST(entry.path().filename().string().front() != '.', "leftover " << entry.path());
    BOOST_TEST(!entry.is_directory(), "leftover " << entry.path());
  }
}

BOOST_AUTO_TEST_CASE(a_committed_checkpoint_is_finished_and_an_uncommitted_one_dropped) {
  TempDir dir;
  write_file(dir / "model.yaml", kModel);
  auto train = [&](const char* epochs, const char* out) {
    const auto r = run_lamina("train " + (dir / "model.yaml").string() + " --epochs " + epochs +
                              " --threads 1 --no-progress --out " + (dir / out).string());
    BOOST_TEST_REQUIRE(r.status == 0, r.output);
  };
  train("2", "two");
  train("3", "three");
  // A run killed after committing epoch 3's checkpoint, with model.safetensors already moved.
  const fs::path run = dir / "two", commit = run / "checkpoint.commit";
  fs::create_directory(commit);
  fs::copy_file(dir / "three" / "model.safetensors", run / "model.safetensors", fs::copy_options::overwrite_existing);
  for (const char* f : {"optimizer.safetensors", "trainer.json"}) fs::copy_file(dir / "three" / f, commit / f);
  fs::create_directory(run / "checkpoint.next");
  write_file(run / "checkpoint.next" / "trainer.json", "{\"epo");
  write_file(run / ".metrics.csv.12345.tmp", "epoch,");
  const auto r = run_lamina("eval " + run.string());
  BOOST_TEST(r.status == 0, r.output);
  for (const char* f : {"model.safetensors", "optimizer.safetensors", "trainer.json"}) {
    BOOST_TEST(read_file(run / f) == read_file(dir / "three" / f), f);
  }
  BOOST_TEST(!fs::exists(commit));
  BOOST_TEST(!fs::exists(run / "checkpoint.next"));
  BOOST_TEST(!fs::exists(run / ".metrics.csv.12345.tmp"));
}

BOOST_AUTO_TEST_CASE(a_search_killed_at_random_moments_keeps_its_complete_lines_and_resumes) {
  TempDir dir;
  write_file(dir / "s.yaml",
             "model:\n"
             "  data: {source: fashion-mnist, train_limit: 3000, test_limit: 100, validation_split: 0.2}\n"
             "  layers: [{type: affine, units: 30}, {type: relu}, {type: affine, units: 10}]\n"
             "  loss: softmax_cross_entropy\n"
             "  optimizer: {type: sgd, lr: 0.01}\n"
             "  train: {batch_size: 50}\n"
             "space:\n"
             "  optimizer.lr: {log_uniform: [1.0e-4, 1.0]}\n"
             "trials: 40\nepochs: 8\nworkers: 2\n");
  const std::string s = (dir / "s.yaml").string(), whole = (dir / "whole").string(), killed = (dir / "killed").string();
  const auto reference = run_and_kill({"search", s, "--no-progress", "--out", whole}, 600).seconds;
  auto without_timing = [](const std::string& line) {
    auto j = nlohmann::json::parse(line);
    j.erase("seconds");
    return j;
  };
  std::map<long, nlohmann::json> expected;
  for (const auto& line : lines_of(read_file(fs::path(whole) / "journal.jsonl"))) {
    const auto j = without_timing(line);
    if (j.contains("trial")) expected[j["trial"].get<long>()] = j;
  }
  auto rng = seeded_rng();
  int kills = 0, mid_run = 0;
  for (int attempt = 0; attempt <= kAttempts; ++attempt) {
    const double after = attempt == kAttempts ? 600 : kill_time(rng, reference);
    if (!run_and_kill({"search", s, "--no-progress", "--out", killed}, after).killed) break;
    ++kills;
    const fs::path journal = fs::path(killed) / "journal.jsonl";
    if (!fs::exists(journal)) continue;
    ++mid_run;
    auto lines = lines_of(read_file(journal));
    if (!read_file(journal).ends_with("\n") && !lines.empty()) lines.pop_back();  // a torn last line
    for (const auto& line : lines) {
      const auto j = without_timing(line);
      if (j.contains("trial")) BOOST_TEST(j == expected.at(j["trial"].get<long>()), line);
    }
  }
  BOOST_TEST_MESSAGE(kills << " kills before the search finished, " << mid_run << " with a journal");
  BOOST_TEST(kills >= 2);  // 6 in practice; >= 3 by construction unless the reference run was slowed
  BOOST_TEST(read_file(fs::path(killed) / "results.csv") == read_file(fs::path(whole) / "results.csv"));
  std::size_t trials = 0;
  for (const auto& line : lines_of(read_file(fs::path(killed) / "journal.jsonl"))) {
    const auto j = without_timing(line);
    if (!j.contains("trial")) continue;
    ++trials;
    BOOST_TEST(j == expected.at(j["trial"].get<long>()));
  }
  BOOST_TEST(trials == expected.size());  // none lost, none run twice
}
