// `mpirun -np N lamina train|search` on this machine (loopback, oversubscribed): data-parallel
// training equals one process with the same global batch, BatchNorm's sync equals the global
// batch's statistics, a distributed search writes the journal a single process writes, a rank
// that dies stops the job and the search resumes, and bad input fails once, cleanly.
#define BOOST_TEST_MODULE mpi
#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cmath>
#include <fstream>
#include "runtime/safetensors.hpp"
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "search_support.hpp"
#include "test_support.hpp"

using namespace lamina::test;

namespace {

std::string mpirun(int ranks) {
  return std::string(LAMINA_TEST_MPIEXEC) + " --allow-run-as-root --oversubscribe -np " + std::to_string(ranks) + " " +
         kLamina.string();
}

CommandResult lamina_on(int ranks, const std::string& args) {
  return ranks == 0 ? run_lamina(args) : run(mpirun(ranks) + " " + args);
}

// No BatchNorm, no dropout: nothing but the global batch decides the numbers.
const std::string kPlain =
    "data: {source: fashion-mnist, train_limit: 650, test_limit: 200}\n"
    "layers:\n"
    "  - {type: affine, units: 32, init: he}\n"
    "  - {type: relu}\n"
    "  - {type: affine, units: 10, init: he}\n"
    "loss: softmax_cross_entropy\n"
    "regularizer: {type: l2, lambda: 1.0e-4}\n"
    "optimizer: {type: momentum, lr: 0.05}\n"
    "train: {epochs: 3, batch_size: 100, seed: 5}\n";  // 650 rows: the last batch has 50

// Largest |a - b| / (1 + |b|) over every tensor of two checkpoints.
double weight_gap(const fs::path& a, const fs::path& b) {
  const auto x = lamina::read_safetensors(a), y = lamina::read_safetensors(b);
  BOOST_TEST_REQUIRE(x.tensors.size() == y.tensors.size());
  double gap = 0;
  for (const auto& [name, t] : x.tensors) {
    const auto& u = y.tensors.at(name);
    BOOST_TEST_REQUIRE(t.size() == u.size(), name);
    for (std::int64_t i = 0; i < t.size(); ++i) {
      gap = std::max(gap, std::abs(double(t.data()[i]) - u.data()[i]) / (1.0 + std::abs(double(u.data()[i]))));
    }
  }
  return gap;
}

nlohmann::json metrics(const fs::path& run) { return nlohmann::json::parse(read_file(run / "metrics.json")); }

const std::string kSearch = kSearchModel + "seed: 3\n";

// The pids of mpirun's children that are rank `rank` of the job.
std::vector<pid_t> ranks_of(pid_t mpirun_pid, int rank) {
  std::vector<pid_t> out;
  DIR* proc = ::opendir("/proc");
  while (dirent* e = proc ? ::readdir(proc) : nullptr) {
    const pid_t pid = std::atoi(e->d_name);
    if (pid <= 0) continue;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string s;
    std::getline(stat, s);
    const auto close = s.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(s.substr(close + 2));
    char state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid != mpirun_pid) continue;
    std::ifstream env("/proc/" + std::to_string(pid) + "/environ");
    std::string var;
    while (std::getline(env, var, '\0')) {
      if (var == "OMPI_COMM_WORLD_RANK=" + std::to_string(rank)) out.push_back(pid);
    }
  }
  if (proc) ::closedir(proc);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(data_parallel_training_equals_one_process_with_the_global_batch) {
  TempDir dir;
  write_file(dir / "m.yaml", kPlain);
  const auto one =
      lamina_on(0, "train " + (dir / "m.yaml").string() + " --threads 1 --no-progress --out " + (dir / "np1").string());
  BOOST_TEST_REQUIRE(one.status == 0, one.output);
  for (int ranks : {2, 3}) {
    const fs::path out = dir / ("np" + std::to_string(ranks));
    const auto r =
        lamina_on(ranks, "train " + (dir / "m.yaml").string() + " --threads 1 --no-progress --out " + out.string());
    BOOST_TEST_REQUIRE(r.status == 0, r.output);
    BOOST_TEST(r.output.find(std::to_string(ranks) + " ranks x 1 thread") != std::string::npos, r.output);
    // One rank speaks: each epoch line once.
    BOOST_TEST(occurs_once(r.output, "epoch 3/3"), r.output);
    const double gap = weight_gap(out / "model.safetensors", dir / "np1" / "model.safetensors");
    BOOST_TEST(gap < 1e-4, "ranks " << ranks << ": weights differ by " << gap);
    const auto a = metrics(out), b = metrics(dir / "np1");
    for (std::size_t e = 0; e < 3; ++e) {
      BOOST_TEST(std::abs(a["epochs"][e]["test"]["loss"].get<double>() - b["epochs"][e]["test"]["loss"].get<double>()) <
                 1e-4);
      BOOST_TEST(a["epochs"][e]["test"]["accuracy"] == b["epochs"][e]["test"]["accuracy"]);
    }
    const auto info = nlohmann::json::parse(read_file(out / "run.json"));
    BOOST_TEST(info["ranks"] == ranks);
    BOOST_TEST(info["allreduce_seconds_per_epoch"].size() == 3u);
  }
}

// A graph (a residual add, an output read twice, a concat) trains on 2 ranks as in one process.
BOOST_AUTO_TEST_CASE(a_graph_model_trains_data_parallel_as_in_one_process) {
  TempDir dir;
  std::string graph = kPlain;
  graph.replace(graph.find("layers:"), graph.find("loss:") - graph.find("layers:"),
                "layers:\n"
                "  - {type: affine, units: 16, init: he, name: a}\n"
                "  - {type: tanh}\n"
                "  - {type: affine, units: 16, init: he, name: b}\n"
                "  - {type: add, inputs: [a, b], name: sum}\n"
                "  - {type: concat, inputs: [sum, a]}\n"
                "  - {type: affine, units: 10, init: he}\n");
  write_file(dir / "g.yaml", graph);
  const auto one =
      lamina_on(0, "train " + (dir / "g.yaml").string() + " --threads 1 --no-progress --out " + (dir / "np1").string());
  BOOST_TEST_REQUIRE(one.status == 0, one.output);
  const auto two =
      lamina_on(2, "train " + (dir / "g.yaml").string() + " --threads 1 --no-progress --out " + (dir / "np2").string());
  BOOST_TEST_REQUIRE(two.status == 0, two.output);
  const double gap = weight_gap(dir / "np2" / "model.safetensors", dir / "np1" / "model.safetensors");
  BOOST_TEST(gap < 1e-4, "weights differ by " << gap);
  BOOST_TEST(metrics(dir / "np2")["epochs"][2]["test"]["accuracy"] == metrics(dir / "np1")["epochs"][2]["test"]["accuracy"]);
}

BOOST_AUTO_TEST_CASE(a_run_resumes_on_another_number_of_ranks) {
  TempDir dir;
  write_file(dir / "m.yaml", kPlain);
  const std::string train = "train " + (dir / "m.yaml").string() + " --threads 1 --no-progress ";
  const auto whole = lamina_on(0, train + "--out " + (dir / "whole").string());
  const auto first = lamina_on(2, train + "--epochs 2 --out " + (dir / "run").string());
  BOOST_TEST_REQUIRE(whole.status == 0, whole.output);
  BOOST_TEST_REQUIRE(first.status == 0, first.output);
  const auto rest = lamina_on(3, "train --resume " + (dir / "run").string() + " --epochs 3 --threads 1 --no-progress");
  BOOST_TEST_REQUIRE(rest.status == 0, rest.output);
  BOOST_TEST(rest.output.find("resuming") != std::string::npos, rest.output);
  BOOST_TEST(metrics(dir / "run")["epochs"].size() == 3u);
  const double gap = weight_gap(dir / "run" / "model.safetensors", dir / "whole" / "model.safetensors");
  BOOST_TEST(gap < 1e-4, "weights differ by " << gap);
}

BOOST_AUTO_TEST_CASE(batchnorm_sync_normalizes_over_the_global_batch) {
  TempDir dir;
  std::string model = kPlain;
  model.replace(model.find("  - {type: relu}"), 0, "  - {type: batchnorm, sync: true}\n");
  write_file(dir / "bn.yaml", model);
  const std::string train = "train " + (dir / "bn.yaml").string() + " --threads 1 --no-progress --out ";
  const auto one = lamina_on(0, train + (dir / "one").string());
  const auto synced = lamina_on(2, train + (dir / "synced").string());
  const auto local = lamina_on(2, train + (dir / "local").string() + " --set layers.1.sync=false");
  // Three ranks split a batch of 100 into 34 + 33 + 33 rows: unequal shares, summed alike.
  const auto synced3 = lamina_on(3, train + (dir / "synced3").string());
  BOOST_TEST_REQUIRE(one.status == 0, one.output);
  BOOST_TEST_REQUIRE(synced.status == 0, synced.output);
  BOOST_TEST_REQUIRE(local.status == 0, local.output);
  BOOST_TEST_REQUIRE(synced3.status == 0, synced3.output);
  // Synced statistics are the global batch's: the same weights and running statistics.
  const double synced_gap = weight_gap(dir / "synced" / "model.safetensors", dir / "one" / "model.safetensors");
  BOOST_TEST(synced_gap < 1e-3, "synced: " << synced_gap);
  const double synced3_gap = weight_gap(dir / "synced3" / "model.safetensors", dir / "one" / "model.safetensors");
  BOOST_TEST(synced3_gap < 1e-3, "synced on 3 ranks: " << synced3_gap);
  // Each rank's own statistics are a different (valid) training: it still learns.
  const double local_gap = weight_gap(dir / "local" / "model.safetensors", dir / "one" / "model.safetensors");
  BOOST_TEST(local_gap > 10 * synced_gap, "local " << local_gap << " synced " << synced_gap);
  BOOST_TEST(metrics(dir / "local")["epochs"][2]["test"]["accuracy"].get<double>() > 0.6);
}

// The same on images: per-channel statistics of a convolution's output, summed over the ranks
// (each rank shifts its sums by rank 0's values before adding them).
BOOST_AUTO_TEST_CASE(batchnorm_sync_on_images_equals_one_process) {
  TempDir dir;
  std::string model = kPlain;
  model.replace(model.find("  - {type: affine, units: 32, init: he}\n"), 0,
                "  - {type: conv2d, filters: 4, kernel: 3, stride: 2}\n  - {type: batchnorm, sync: true}\n"
                "  - {type: relu}\n  - {type: max_pool2d}\n");
  write_file(dir / "cnn.yaml", model);
  const std::string train = "train " + (dir / "cnn.yaml").string() + " --epochs 2 --threads 1 --no-progress --out ";
  const auto one = lamina_on(0, train + (dir / "one").string());
  const auto synced = lamina_on(2, train + (dir / "synced").string());
  const auto local = lamina_on(2, train + (dir / "local").string() + " --set layers.1.sync=false");
  BOOST_TEST_REQUIRE(one.status == 0, one.output);
  BOOST_TEST_REQUIRE(synced.status == 0, synced.output);
  BOOST_TEST_REQUIRE(local.status == 0, local.output);
  const double gap = weight_gap(dir / "synced" / "model.safetensors", dir / "one" / "model.safetensors");
  const double local_gap = weight_gap(dir / "local" / "model.safetensors", dir / "one" / "model.safetensors");
  BOOST_TEST(gap < 1e-3, "synced: " << gap);
  BOOST_TEST(local_gap > 10 * gap, "local " << local_gap << " synced " << gap);
  BOOST_TEST_MESSAGE("synced " << gap << ", local " << local_gap);
}

// Each rank draws its own dropout masks (docs/cluster.md). The data make it visible: rows
// 100..199 repeat rows 0..99 and nothing is shuffled, so with one global batch of 200 rank 0
// and rank 1 get the same rows. Were rank 1's masks rank 0's, the step would be one process's
// step on rows 0..99 alone (rank 0 keeps the single-process stream); without dropout it is.
BOOST_AUTO_TEST_CASE(each_rank_draws_its_own_dropout_masks) {
  TempDir dir;
  std::string rows;
  for (int i = 0; i < 100; ++i) {
    rows += std::to_string(i % 10);
    for (int f = 0; f < 8; ++f) {
      rows += ',';  // (not "," + to_string: GCC 12 warns falsely of an overlapping copy there)
      rows += std::to_string(((i * 7 + f * 13) % 17) / 17.0);
    }
    rows += "\n";
  }
  write_file(dir / "half.csv", rows);
  write_file(dir / "twice.csv", rows + rows);
  const auto model = [&](const std::string& file, int batch, double ratio) {
    return "data: {source: csv, train: " + file + ", test: half.csv, validation_split: 0}\n"
           "layers:\n"
           "  - {type: affine, units: 16, init: he}\n"
           "  - {type: dropout, ratio: " + std::to_string(ratio) + "}\n"
           "  - {type: affine, units: 10, init: he}\n"
           "loss: softmax_cross_entropy\n"
           "optimizer: {type: sgd, lr: 0.5}\n"
           "train: {epochs: 1, batch_size: " + std::to_string(batch) + ", seed: 4, shuffle: false}\n";
  };
  for (const double ratio : {0.5, 0.0}) {
    const std::string tag = ratio > 0 ? "dropout" : "none";
    write_file(dir / (tag + "-half.yaml"), model("half.csv", 100, ratio));
    write_file(dir / (tag + "-twice.yaml"), model("twice.csv", 200, ratio));
    const std::string flags = " --threads 1 --no-progress --out ";
    const auto one = lamina_on(0, "train " + (dir / (tag + "-half.yaml")).string() + flags + (dir / (tag + "-one")).string());
    const auto two = lamina_on(2, "train " + (dir / (tag + "-twice.yaml")).string() + flags + (dir / (tag + "-two")).string());
    BOOST_TEST_REQUIRE(one.status == 0, one.output);
    BOOST_TEST_REQUIRE(two.status == 0, two.output);
    const double gap = weight_gap(dir / (tag + "-two") / "model.safetensors", dir / (tag + "-one") / "model.safetensors");
    BOOST_TEST_MESSAGE(tag << ": " << gap);
    if (ratio > 0) {
      BOOST_TEST(gap > 1e-3, "rank 1 drew rank 0's masks: " << gap);
    } else {
      BOOST_TEST(gap < 1e-5, "without dropout the two ranks are one process on rows 0..99: " << gap);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_distributed_search_writes_the_journal_of_one_process) {
  // Random sampling with ASHA and narrowing rounds, and TPE (which waits for the trials it
  // learns from, across ranks) with the median rule.
  const std::pair<std::string, std::vector<std::pair<int, int>>> configs[] = {
      {"trials: 10\nepochs: 6\nrounds: {count: 2, keep: 0.5}\npruning: {type: asha, min_epochs: 2, reduction: 2}\n",
       {{2, 1}, {3, 2}}},
      {"trials: 12\nepochs: 4\nsampler: {type: tpe, startup_trials: 3}\npruning: {type: median, min_trials: 2}\n",
       {{3, 2}}},
      {"trials: 8\nepochs: 3\nsampler: {type: tpe, startup_trials: 3}\npruning: none\nlag: 1\n", {{3, 1}}}};
  for (const auto& [budget, layouts] : configs) {
    TempDir dir;
    write_file(dir / "s.yaml", kSearch + budget);
    const std::string search = "search " + (dir / "s.yaml").string() + " --no-progress --out ";
    const auto one = lamina_on(0, search + (dir / "one").string() + " --workers 1");
    BOOST_TEST_REQUIRE(one.status == 0, one.output);
    for (const auto& [ranks, workers] : layouts) {
      const fs::path out = dir / ("np" + std::to_string(ranks));
      const auto r = lamina_on(ranks, search + out.string() + " --workers " + std::to_string(workers));
      BOOST_TEST_REQUIRE(r.status == 0, r.output);
      BOOST_TEST(r.output.find(std::to_string(ranks) + " ranks x " + std::to_string(workers) + " worker(s)") !=
                 std::string::npos);
      BOOST_TEST(journal(out) == journal(dir / "one"), budget);
      BOOST_TEST(read_file(out / "results.csv") == read_file(dir / "one" / "results.csv"));
      BOOST_TEST(read_file(out / "best.yaml") == read_file(dir / "one" / "best.yaml"));
    }
    std::size_t pruned = 0;
    for (const auto& [id, t] : journal(dir / "one")) pruned += t["status"] == "pruned";
    // the pruning decisions crossed ranks (pruning: none stops nothing)
    BOOST_TEST((pruned > 0u) == (budget.find("pruning: none") == std::string::npos), budget);
  }
}

BOOST_AUTO_TEST_CASE(a_distributed_conditional_repeated_multi_objective_search_writes_the_journal_of_one_process) {
  // The optimizer as a conditional choice, each trial on 2 seeds (their scores cross ranks with
  // the trial), TPE with ASHA on the seeds' mean, two objectives (their values cross ranks too,
  // and TPE learns from the front's order).
  TempDir dir;
  write_file(dir / "s.yaml", kSearchModel.substr(0, kSearchModel.find("space:\n")) +
                                 "space:\n"
                                 "  optimizer:\n"
                                 "    choice:\n"
                                 "      - {type: sgd, lr: {log_uniform: [1.0e-3, 1.0]}}\n"
                                 "      - {type: momentum, lr: {log_uniform: [1.0e-3, 1.0e-1]}, momentum: {uniform: [0.8, 0.99]}}\n"
                                 "  layers.0.units: {int_uniform: [4, 40]}\n"
                                 "seed: 3\ntrials: 6\nepochs: 3\nrepeats: 2\nsampler: {type: tpe, startup_trials: 2}\n"
                                 "pruning: {type: asha, min_epochs: 1, reduction: 2}\n"
                                 "objectives: [{metric: val_accuracy}, {measure: parameters, direction: minimize}]\n");
  const std::string search = "search " + (dir / "s.yaml").string() + " --no-progress --out ";
  const auto one = lamina_on(0, search + (dir / "one").string() + " --workers 1");
  BOOST_TEST_REQUIRE(one.status == 0, one.output);
  const auto r = lamina_on(2, search + (dir / "np2").string() + " --workers 1");
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  BOOST_TEST(journal(dir / "np2") == journal(dir / "one"));
  BOOST_TEST(read_file(dir / "np2" / "results.csv") == read_file(dir / "one" / "results.csv"));
  for (const auto& [id, t] : journal(dir / "one")) {
    BOOST_TEST(t["repeat_scores"].size() == 2u, id);
    BOOST_TEST(t["objectives"]["parameters"].get<double>() ==
                   795 * t["values"]["layers.0.units"]["number"].get<double>() + 10,
               id);
  }
  const auto files = [&](const std::string& run) {
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(dir / run / "pareto")) names.insert(e.path().filename().string());
    return names;
  };
  BOOST_TEST((files("np2") == files("one")));
  BOOST_TEST(!files("one").empty());
}

BOOST_AUTO_TEST_CASE(a_rank_that_dies_stops_the_job_and_the_search_resumes) {
  TempDir dir;
  write_file(dir / "s.yaml", kSearch + "trials: 24\nepochs: 8\n");
  const fs::path out = dir / "out";
  const std::string log = (dir / "log").string();
  const pid_t pid = ::fork();
  if (pid == 0) {
    const std::string cmd = mpirun(3) + " search " + (dir / "s.yaml").string() + " --workers 1 --no-progress --out " +
                            out.string() + " >" + log + " 2>&1";
    ::execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Once some trials are in the journal, kill rank 1 as a crash would.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  bool killed = false;
  while (!killed && std::chrono::steady_clock::now() < deadline) {
    if (fs::exists(out / "journal.jsonl") && count_lines(read_file(out / "journal.jsonl")) >= 4u) {
      for (pid_t rank1 : ranks_of(pid, 1)) killed = ::kill(rank1, SIGKILL) == 0 || killed;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  BOOST_TEST_REQUIRE(killed, read_file(log));
  int status = 0;
  ::waitpid(pid, &status, 0);  // the job ends (a hang would time the suite out)
  BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) != 0), read_file(log));
  const auto kept = journal(out);
  BOOST_TEST(kept.size() < 24u);
  BOOST_TEST(kept.size() >= 3u);

  const auto resumed =
      lamina_on(2, "search " + (dir / "s.yaml").string() + " --workers 1 --no-progress --out " + out.string());
  BOOST_TEST_REQUIRE(resumed.status == 0, resumed.output);
  BOOST_TEST(resumed.output.find("resuming with") != std::string::npos, resumed.output);
  const auto whole = lamina_on(
      0, "search " + (dir / "s.yaml").string() + " --workers 2 --no-progress --out " + (dir / "whole").string());
  BOOST_TEST_REQUIRE(whole.status == 0, whole.output);
  const auto finished = journal(out);
  BOOST_TEST(finished == journal(dir / "whole"));
  for (const auto& [id, t] : kept) BOOST_TEST(finished.at(id) == t);  // no finished trial lost or redone
}

BOOST_AUTO_TEST_CASE(bad_input_fails_once_with_status_2_and_writes_nothing) {
  TempDir dir;
  write_file(dir / "m.yaml", kPlain);
  write_file(dir / "bad.yaml", "layers: [{type: affine, units: 0}]\n");
  const auto bad = lamina_on(2, "train " + (dir / "bad.yaml").string() + " --out " + (dir / "r1").string());
  BOOST_TEST(bad.status == 2, bad.output);
  const std::string said = "lamina train: error: ";
  BOOST_TEST(occurs_once(bad.output, said), bad.output);  // said once, not per rank
  BOOST_TEST(!fs::exists(dir / "r1"));

  const auto flag = lamina_on(2, "train " + (dir / "m.yaml").string() + " --bogus");
  BOOST_TEST(flag.status == 2, flag.output);
  BOOST_TEST(occurs_once(flag.output, "unrecognised option '--bogus'"), flag.output);

  const auto small =
      lamina_on(3, "train " + (dir / "m.yaml").string() + " --set train.batch_size=2 --out " + (dir / "r2").string());
  BOOST_TEST(small.status == 2, small.output);
  BOOST_TEST(
      small.output.find("lamina train: error: train.batch_size 2 cannot be shared by 3 ranks") != std::string::npos,
      small.output);
  BOOST_TEST(!fs::exists(dir / "r2"));

  // A rank alone failing in a batch: BatchNorm's own statistics need 2 samples, rank 0 gets 1 of 3.
  std::string bn = kPlain;
  bn.replace(bn.find("  - {type: relu}"), 0, "  - {type: batchnorm}\n");
  write_file(dir / "bn.yaml", bn);
  const auto lone =
      lamina_on(2, "train " + (dir / "bn.yaml").string() + " --set train.batch_size=3 --out " + (dir / "r3").string());
  BOOST_TEST(lone.status == 2, lone.output);
  BOOST_TEST(lone.output.find("batchnorm needs at least 2 samples per batch") != std::string::npos, lone.output);
  BOOST_TEST(!fs::exists(dir / "r3"));  // no epoch finished: no run folder left behind

  // Commands other than train and search run once.
  const auto plugins = lamina_on(2, "plugins");
  BOOST_TEST(plugins.status == 0, plugins.output);
  BOOST_TEST(occurs_once(plugins.output, "plugins loaded"), plugins.output);
}
