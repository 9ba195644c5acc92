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
#include <optional>
#include <unistd.h>
#include <random>
#include <sstream>
#include <thread>

#include "test_support.hpp"

using namespace lamina::test;
using Clock = std::chrono::steady_clock;

namespace {

// BatchNorm, dropout, Adam, a cosine schedule over the run's steps and per-step losses: every
// kind of state a resume must restore. 3,600 samples in batches of 50: 72 steps per epoch, not a
// multiple of log_every (a resume once numbered the logged steps from the last logged line).
const std::string kModel =
    "data: {source: fashion-mnist, train_limit: 4000, test_limit: 500, validation_split: 0.1}\n"
    "layers:\n"
    "  - {type: affine, units: 64}\n"
    "  - {type: batchnorm}\n"
    "  - {type: relu}\n"
    "  - {type: dropout, ratio: 0.2}\n"
    "  - {type: affine, units: 10}\n"
    "loss: softmax_cross_entropy\n"
    "optimizer: {type: adam, lr: 0.001, schedule: {type: cosine, warmup_epochs: 2, min_factor: 0.05}}\n"
    "train: {epochs: 30, batch_size: 50, seed: 7, log_every: 10}\n";

struct Outcome {
  bool killed = false;
  double seconds = 0;
};

// What to wait for before the kill: the `lines`-th line of lamina's stdout that starts with
// `prefix` (an epoch line of train, a trial line of search; 0: the first line of output, the
// start-up done), then `delay` seconds more. Kill points are counted in reported progress, not
// in wall time, so a slow or busy machine changes nothing: the run always has work left.
struct KillPoint {
  std::string prefix;
  int lines = 0;
  double delay = 0;
};

// Starts `lamina ARGS...` and SIGKILLs it at `at` (never, when `at` is empty).
Outcome run_and_kill(const std::vector<std::string>& args, const std::optional<KillPoint>& at) {
  std::cout.flush();
  std::fflush(nullptr);  // or the child would print the parent's buffered output again
  int out[2];
  BOOST_TEST_REQUIRE(::pipe(out) == 0);
  const auto start = Clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv{const_cast<char*>("lamina")};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::dup2(out[1], STDOUT_FILENO);
    ::close(out[0]);
    ::close(out[1]);
    ::freopen("/dev/null", "w", stderr);
    ::execv(kLamina.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  FILE* lines = ::fdopen(out[0], "r");
  int seen = 0;
  bool reached = false;
  char* line = nullptr;
  std::size_t cap = 0;
  while (at && !reached && ::getline(&line, &cap, lines) > 0) {
    const bool counts = at->lines == 0 || std::string_view(line).starts_with(at->prefix);
    if (counts && ++seen >= std::max(at->lines, 1)) reached = true;
  }
  if (reached) {
    std::this_thread::sleep_for(std::chrono::duration<double>(at->delay));
    ::kill(pid, SIGKILL);
  }
  while (::getline(&line, &cap, lines) > 0) {
  }
  std::free(line);
  std::fclose(lines);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && reached) {
    return {true, std::chrono::duration<double>(Clock::now() - start).count()};
  }
  BOOST_TEST_REQUIRE((WIFEXITED(status) && WEXITSTATUS(status) == 0), "lamina failed on its own");
  return {false, std::chrono::duration<double>(Clock::now() - start).count()};
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
      if (name == ".live") {
        // The marker of the killed trainer (lamina serve reads it as interrupted: its process is
        // gone); whole, since it is written like every other file.
        BOOST_TEST(text.ends_with("\n"));
      } else if (name.front() == '.') {
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

// kAttempts kills, then a run left to finish. Each kill comes after 0, 1 or 2 reported units
// of this process's progress (epochs, trials) plus up to half of one unit's time: so a kill
// lands before the first epoch, mid-epoch or just after a checkpoint, and with 30 epochs (40
// trials) the run always has work left when it is killed.
constexpr int kAttempts = 6;

KillPoint kill_point(std::mt19937_64& rng, const std::string& prefix, double unit_seconds) {
  return {prefix, std::uniform_int_distribution<int>(0, 2)(rng),
          std::uniform_real_distribution<double>(0.0, 0.5 * unit_seconds)(rng)};
}

std::mt19937_64 seeded_rng() {
  const auto seed = std::random_device{}();
  BOOST_TEST_MESSAGE("kill points drawn with seed " << seed);
  return std::mt19937_64(seed);
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_training_run_killed_at_random_moments_resumes_to_the_same_files) {
  TempDir dir;
  write_file(dir / "model.yaml", kModel);
  const std::string model = (dir / "model.yaml").string(), whole = (dir / "whole").string(),
                    killed = (dir / "killed").string();
  const auto reference = run_and_kill({"train", model, "--threads", "1", "--no-progress", "--out", whole}, {}).seconds;
  const double epoch_seconds = reference / 30;

  auto rng = seeded_rng();
  int kills = 0, mid_run = 0;
  for (int attempt = 0; attempt <= kAttempts; ++attempt) {
    const bool started = fs::exists(fs::path(killed) / "model.yaml");
    std::vector<std::string> args{"train", "--resume", killed, "--threads", "1", "--no-progress"};
    if (!started) args = {"train", model, "--threads", "1", "--no-progress", "--out", killed};
    const auto at = attempt == kAttempts ? std::nullopt
                                         : std::optional<KillPoint>(kill_point(rng, "epoch ", epoch_seconds));
    if (!run_and_kill(args, at).killed) break;
    ++kills;
    if (fs::exists(killed)) check_files_are_whole(killed, whole);
    if (fs::exists(fs::path(killed) / "trainer.json")) ++mid_run;
  }
  BOOST_TEST_MESSAGE(kills << " kills before the run finished, " << mid_run << " after a checkpoint");
  BOOST_TEST(kills == kAttempts);  // every kill point lies before the end of the run
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
             "  data: {source: fashion-mnist, train_limit: 1500, test_limit: 100, validation_split: 0.2}\n"
             "  layers: [{type: affine, units: 30}, {type: relu}, {type: affine, units: 10}]\n"
             "  loss: softmax_cross_entropy\n"
             "  optimizer: {type: sgd, lr: 0.01}\n"
             "  train: {batch_size: 50}\n"
             "space:\n"
             "  optimizer.lr: {log_uniform: [1.0e-4, 1.0]}\n"
             "trials: 40\nepochs: 8\nworkers: 2\n");
  const std::string s = (dir / "s.yaml").string(), whole = (dir / "whole").string(), killed = (dir / "killed").string();
  const auto reference = run_and_kill({"search", s, "--no-progress", "--out", whole}, {}).seconds;
  const double trial_seconds = reference / 40 * 2;  // two workers
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
    const auto at = attempt == kAttempts ? std::nullopt
                                         : std::optional<KillPoint>(kill_point(rng, "trial ", trial_seconds));
    if (!run_and_kill({"search", s, "--no-progress", "--out", killed}, at).killed) break;
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
  BOOST_TEST(kills == kAttempts);
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

// Ctrl-C in `lamina train`: the run stops at its last finished epoch, says how to continue, exits
// 130, records itself as interrupted in run.json and leaves no .live marker; the resume finishes.
BOOST_AUTO_TEST_CASE(ctrl_c_stops_a_training_cleanly_and_it_resumes) {
  TempDir dir;
  write_file(dir / "m.yaml", kModel);
  const fs::path run = dir / "run";
  std::cout.flush();
  std::fflush(nullptr);
  int out[2];
  BOOST_TEST_REQUIRE(::pipe(out) == 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::close(out[0]);
    ::close(out[1]);
    ::freopen("/dev/null", "w", stderr);
    ::execl(kLamina.c_str(), "lamina", "train", (dir / "m.yaml").c_str(), "--no-progress", "--out", run.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  FILE* lines = ::fdopen(out[0], "r");
  std::string printed;
  char* line = nullptr;
  std::size_t cap = 0;
  bool sent = false;
  while (::getline(&line, &cap, lines) > 0) {
    printed += line;
    if (!sent && std::string_view(line).starts_with("epoch  1/")) {
      ::kill(pid, SIGINT);
      sent = true;
    }
  }
  std::free(line);
  std::fclose(lines);
  int status = 0;
  ::waitpid(pid, &status, 0);
  BOOST_TEST_REQUIRE(sent, printed);
  BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 130), "status " << status << ": " << printed);
  const std::string expected_tail = " of 30; `lamina train --resume " + run.string() + "` continues\n";
  BOOST_TEST(printed.find("\ninterrupted after epoch ") != std::string::npos, printed);
  BOOST_TEST(printed.ends_with(expected_tail), printed);
  BOOST_TEST(!fs::exists(run / ".live"));
  const auto info = nlohmann::json::parse(read_file(run / "run.json"));
  BOOST_TEST(info["status"] == "interrupted");
  const auto done = nlohmann::json::parse(read_file(run / "trainer.json"))["epoch"].get<int>();
  BOOST_TEST(done >= 1);
  // eval and export say that the run is partial.
  const auto evaluated = run_lamina("eval " + run.string());
  BOOST_TEST(evaluated.status == 0, evaluated.output);
  BOOST_TEST(evaluated.output.find("note: " + run.string() + " holds epoch " + std::to_string(done) +
                                   " of 30: the run was interrupted; `lamina train --resume " + run.string() +
                                   "` continues it") != std::string::npos,
             evaluated.output);
  const auto resumed =
      run_lamina("train --resume " + run.string() + " --epochs " + std::to_string(done + 1) + " --no-progress");
  BOOST_TEST(resumed.status == 0, resumed.output);
  BOOST_TEST(resumed.output.find("resuming " + run.string() + " after epoch " + std::to_string(done)) !=
                 std::string::npos,
             resumed.output);
}
