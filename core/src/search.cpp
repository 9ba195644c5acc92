// The search driver: rounds of trials run by worker threads, pruning decisions made in trial
// order (so any worker count gives the same search), an append-only journal for resuming, and
// the ranked results.
#include "lamina/search.hpp"

#include <fmt/format.h>
#include <omp.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <ostream>
#include <thread>

#include "atomic_file.hpp"
#include "lamina/commands.hpp"
#include "lamina/error.hpp"
#include "lamina/plugin_loader.hpp"
#include "lamina/trainer.hpp"
#include "search_journal.hpp"
#include "search_spec.hpp"

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace lamina {
namespace {

std::atomic<bool> g_interrupted{false};
void on_sigint(int) { g_interrupted.store(true); }

// Ctrl-C asks the search to stop: running trials end at their next batch and are not
// journaled (a resume reruns them); finished ones are all in the journal already.
class SigintScope {
 public:
  SigintScope() {
    g_interrupted.store(false);
    struct sigaction sa {};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, &old_);
  }
  ~SigintScope() { ::sigaction(SIGINT, &old_, nullptr); }

 private:
  struct sigaction old_ {};
};

std::string dim_kind(const Dimension& d) {
  switch (d.type) {
    case Dimension::Type::Uniform:
      return "uniform";
    case Dimension::Type::LogUniform:
      return "log_uniform";
    case Dimension::Type::IntUniform:
      return "int_uniform";
    case Dimension::Type::Choice:
      return "choice";
  }
  return "";
}

std::string describe_space(const SearchSpace& space) {
  std::string s;
  for (const auto& d : space.dims) {
    if (!s.empty()) s += " | ";
    s += d.type == Dimension::Type::Choice ? fmt::format("{} {{{}}}", d.path, fmt::join(d.choices, ", "))
                                           : fmt::format("{} [{:.3g}, {:.3g}] ({})", d.path, d.lo, d.hi, dim_kind(d));
  }
  return s;
}

TrialReport report_from_journal(const json& j, const SearchSpace& space) {
  TrialReport r;
  // at(), not operator[]: on a const json a missing key is undefined behaviour with [].
  r.id = j.at("trial").get<std::int64_t>();
  r.round = j.contains("round") ? j.at("round").get<std::int64_t>() : 0;
  for (const auto& d : space.dims) {
    const auto& v = j.at("values").at(d.path);
    r.values.push_back({v.at("text").get<std::string>(), v.at("number").get<double>()});
  }
  for (const auto& s : j.at("scores")) r.scores.push_back(s.get<double>());
  r.finished = true;
  r.status = j.at("status").get<std::string>();
  return r;
}

// Every finished trial of a resumed journal must read back before the search starts: a line
// edited by hand is reported, naming it, instead of failing mid-search.
void check_journal(const detail::Journal& journal, const SearchSpace& space) {
  for (const auto& [id, t] : journal.finished()) {
    try {
      report_from_journal(t, space);
    } catch (const json::exception& e) {
      throw InputError(
          fmt::format("{}: trial {} is not a journal record of this search ({}); remove its line to "
                      "rerun it",
                      journal.file().string(), id, e.what()));
    }
  }
}

json trial_json(const TrialReport& r, const SearchSpace& space, double seconds, const std::string& error) {
  json j;
  j["trial"] = r.id;
  j["round"] = r.round;
  json values = json::object();
  for (std::size_t d = 0; d < space.dims.size(); ++d) {
    values[space.dims[d].path] = {{"text", r.values[d].text}, {"number", r.values[d].number}};
  }
  j["values"] = values;
  j["scores"] = r.scores;
  j["score"] = r.scores.empty() || r.status == "diverged" || r.status == "failed" ? json() : json(r.scores.back());
  j["status"] = r.status;
  j["seconds"] = std::round(seconds * 1000) / 1000;
  if (!error.empty()) j["error"] = error;
  return j;
}

// Shared by the workers of one round. Every access holds `mu`.
struct Round {
  std::mutex mu;
  std::condition_variable changed;
  std::map<std::int64_t, TrialReport> reports;  // every trial of the round, started or not
  std::int64_t next = 0;                        // the next trial id to hand out
  std::int64_t end = 0;
};

class TrialObserver : public TrainObserver {
 public:
  TrialObserver(Round& round, std::int64_t id, const detail::SearchSpec& spec) : round_(round), id_(id), spec_(spec) {}

  void on_epoch(const EpochMetrics& m) override {
    const double score = spec_.metric == "val_loss" ? -m.validation->loss : m.validation->accuracy;
    std::unique_lock lock(round_.mu);
    TrialReport& me = round_.reports[id_];
    me.scores.push_back(score);
    round_.changed.notify_all();
    if (!spec_.pruning.enabled) return;
    // Decide only once every earlier trial has reached this epoch or ended, so the decision
    // is the one a serial search would make.
    const std::size_t e = me.scores.size();
    round_.changed.wait(lock, [&] {
      if (g_interrupted.load()) return true;
      for (auto it = round_.reports.begin(); it != round_.reports.end() && it->first < id_; ++it) {
        if (!it->second.finished && it->second.scores.size() < e) return false;
      }
      return true;
    });
    if (g_interrupted.load()) return;
    std::vector<TrialReport> earlier;
    for (auto it = round_.reports.begin(); it != round_.reports.end() && it->first < id_; ++it) {
      earlier.push_back(it->second);
    }
    pruned_ = spec_.strategy->should_stop(me, earlier, spec_.pruning);
  }

  bool should_stop() override { return pruned_ || g_interrupted.load(); }
  bool pruned() const { return pruned_; }

 private:
  Round& round_;
  std::int64_t id_;
  const detail::SearchSpec& spec_;
  bool pruned_ = false;
};

class Driver {
 public:
  Driver(detail::SearchSpec& spec, const Registry& registry, const DataSplits& data, detail::Journal& journal,
         std::ostream& out, bool live)
      : spec_(spec), registry_(registry), data_(data), journal_(journal), out_(out), live_(live) {}

  // Runs one round's trials [begin, end) in `space`; returns false if interrupted.
  bool run_round(std::int64_t round_index, const SearchSpace& space, std::int64_t begin, std::int64_t end,
                 std::int64_t workers) {
    Round round;
    round.next = begin;
    round.end = end;
    for (std::int64_t id = begin; id < end; ++id) {
      TrialReport r;
      r.id = id;
      r.round = round_index;
      if (auto it = journal_.finished().find(id); it != journal_.finished().end()) {
        r = report_from_journal(it->second, space);  // checked by check_journal
      }
      round.reports[id] = r;
    }
    std::vector<std::thread> threads;
    std::exception_ptr failure;
    for (std::int64_t w = 0; w < workers; ++w) {
      threads.emplace_back([&] {
        omp_set_num_threads(1);  // one thread per trial: the same numbers for any worker count
        try {
          work(round, space);
        } catch (...) {
          std::lock_guard lock(round.mu);
          if (!failure) failure = std::current_exception();
          g_interrupted.store(true);
          round.changed.notify_all();
        }
      });
    }
    for (auto& t : threads) t.join();
    if (failure) std::rethrow_exception(failure);
    rounds_.push_back(round.reports);
    return !g_interrupted.load();
  }

  const std::vector<std::map<std::int64_t, TrialReport>>& rounds() const { return rounds_; }
  std::int64_t run_count() const { return run_count_; }

 private:
  void work(Round& round, const SearchSpace& space) {
    for (;;) {
      std::int64_t id;
      std::vector<Value> values;
      {
        std::lock_guard lock(round.mu);
        while (round.next < round.end && round.reports[round.next].finished) ++round.next;
        if (round.next >= round.end || g_interrupted.load()) return;
        id = round.next++;
        Rng rng(spec_.seed, 1000 + static_cast<std::uint64_t>(id));
        values = spec_.strategy->propose(space, id, rng);
        round.reports[id].values = values;
      }
      run_trial(round, space, id, values);
    }
  }

  void run_trial(Round& round, const SearchSpace& space, std::int64_t id, const std::vector<Value>& values) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::string> overrides;
    for (std::size_t d = 0; d < space.dims.size(); ++d) overrides.push_back(space.dims[d].path + "=" + values[d].text);
    Rng seed_rng(spec_.seed, 2000 + static_cast<std::uint64_t>(id));
    overrides.push_back(fmt::format("train.epochs={}", spec_.epochs));
    overrides.push_back(fmt::format("train.seed={}", seed_rng.next() >> 33));
    overrides.push_back("train.train_metrics=running");

    TrialObserver observer(round, id, spec_);
    std::string status = "ok", error;
    try {
      Model model = build_model(spec_.base.with(overrides), registry_);
      build_network(model, data_);
      Trainer trainer(model, data_, TrainerOptions{false});
      trainer.run(&observer);
      if (observer.pruned()) status = "pruned";
    } catch (const Diverged& e) {
      status = "diverged";
      error = e.what();
    } catch (const Error& e) {
      status = "failed";
      error = e.what();
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    std::lock_guard lock(round.mu);
    TrialReport& r = round.reports[id];
    const bool complete = status != "ok" || static_cast<std::int64_t>(r.scores.size()) == spec_.epochs;
    if (g_interrupted.load() && !complete) {
      round.changed.notify_all();
      return;  // interrupted mid-trial: not journaled, rerun on resume
    }
    r.finished = true;
    r.status = status;
    journal_.append(trial_json(r, space, seconds, error));
    ++run_count_;
    round.changed.notify_all();
    report(r, space, seconds, error);
  }

  void report(const TrialReport& r, const SearchSpace& space, double seconds, const std::string& error) {
    ++done_;
    const double score = r.scores.empty() ? NAN : r.scores.back();
    if (r.status == "ok" || r.status == "pruned") best_ = std::max(best_, score);
    std::string line = fmt::format("trial {:>4} (round {}) {:<8} {} {}", r.id, r.round + 1, r.status, spec_.metric,
                                   r.scores.empty() ? std::string("-") : fmt::format("{:.4f}", std::abs(score)));
    for (std::size_t d = 0; d < space.dims.size(); ++d)
      line += fmt::format(" | {} {}", space.dims[d].path, r.values[d].text);
    line += fmt::format(" | {} epochs {:.1f}s", r.scores.size(), seconds);
    if (!error.empty()) line += " | " + error;
    if (live_) fmt::print(stderr, "\r\033[K");
    out_ << line << std::endl;
    if (live_) {
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      const std::int64_t total = spec_.trials * spec_.rounds;
      const double eta = elapsed / static_cast<double>(run_count_) * static_cast<double>(total - done_total());
      fmt::print(stderr, "[{}/{}] best {} {:.4f} | {:.0f}s elapsed | eta {:.0f}s", done_total(), total, spec_.metric,
                 std::abs(best_), elapsed, eta);
      std::fflush(stderr);
    }
  }

  std::int64_t done_total() const { return static_cast<std::int64_t>(journal_.finished().size()); }

  detail::SearchSpec& spec_;
  const Registry& registry_;
  const DataSplits& data_;
  detail::Journal& journal_;
  std::ostream& out_;
  bool live_;
  std::vector<std::map<std::int64_t, TrialReport>> rounds_;
  std::int64_t run_count_ = 0, done_ = 0;
  double best_ = -INFINITY;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

void write_results(const fs::path& dir, const detail::SearchSpec& spec, const std::vector<SearchSpace>& spaces,
                   const std::vector<std::map<std::int64_t, TrialReport>>& rounds, const Registry& registry,
                   std::ostream& out) {
  std::vector<const TrialReport*> ranked;
  for (const auto& r : rounds) {
    for (const auto& [id, t] : r) {
      if (t.finished && (t.status == "ok" || t.status == "pruned") && !t.scores.empty()) ranked.push_back(&t);
    }
  }
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const TrialReport* a, const TrialReport* b) { return a->scores.back() > b->scores.back(); });
  const bool loss = spec.metric == "val_loss";
  std::string csv = "rank,trial,round,status,epochs," + spec.metric;
  for (const auto& d : spec.space.dims) csv += "," + d.path;
  csv += "\n";
  for (std::size_t i = 0; i < ranked.size(); ++i) {
    const auto& t = *ranked[i];
    csv += fmt::format("{},{},{},{},{},{:.6f}", i + 1, t.id, t.round + 1, t.status, t.scores.size(),
                       loss ? -t.scores.back() : t.scores.back());
    for (const auto& v : t.values) csv += "," + v.text;
    csv += "\n";
  }
  detail::write_file_atomic(dir / "results.csv", csv);

  json rounds_json = json::array();
  for (std::size_t r = 0; r < spaces.size(); ++r) {
    json dims = json::object();
    for (const auto& d : spaces[r].dims) {
      dims[d.path] = {{"type", dim_kind(d)},
                      {"range", d.type == Dimension::Type::Choice ? json(d.choices) : json({d.lo, d.hi})}};
    }
    rounds_json.push_back({{"round", r + 1}, {"space", dims}});
  }
  detail::write_file_atomic(dir / "rounds.json", rounds_json.dump(2) + "\n");

  // Compute spent, in trial-epochs, and when the best score was first reached, in trial order
  // (the order a serial search runs them): what pruning and narrowing are meant to save.
  std::int64_t spent = 0, spent_at_best = 0, pruned = 0;
  double best = -INFINITY;
  for (const auto& r : rounds) {
    for (const auto& [id, t] : r) {
      spent += static_cast<std::int64_t>(t.scores.size());
      pruned += t.status == "pruned";
      if ((t.status == "ok" || t.status == "pruned") && !t.scores.empty() && t.scores.back() > best) {
        best = t.scores.back();
        spent_at_best = spent;
      }
    }
  }
  json summary;
  summary["trials"] = static_cast<std::int64_t>(ranked.size());
  summary["pruned"] = pruned;
  summary["trial_epochs"] = spent;
  summary["best_score"] = ranked.empty() ? json() : json(std::abs(best));
  summary["trial_epochs_to_best"] = spent_at_best;
  detail::write_file_atomic(dir / "summary.json", summary.dump(2) + "\n");

  const std::string metric_name = loss ? "val loss" : "val acc";
  out << fmt::format("\n{} finished trials ranked by {} (top {}):\n", ranked.size(), spec.metric,
                     std::min<std::size_t>(20, ranked.size()));
  for (std::size_t i = 0; i < ranked.size() && i < 20; ++i) {
    const auto& t = *ranked[i];
    std::string line = fmt::format("Best-{} ({} {:.4f})", i + 1, metric_name, std::abs(t.scores.back()));
    for (std::size_t d = 0; d < spec.space.dims.size(); ++d) {
      const auto& dim = spec.space.dims[d];
      line += dim.type == Dimension::Type::Choice || dim.type == Dimension::Type::IntUniform
                  ? fmt::format(" | {} {}", dim.path, t.values[d].text)
                  : fmt::format(" | {} {:.1e}", dim.path, t.values[d].number);
    }
    if (t.status == "pruned") line += fmt::format(" | pruned at epoch {}", t.scores.size());
    out << line << "\n";
  }
  if (!ranked.empty()) {
    std::vector<std::string> overrides;
    for (std::size_t d = 0; d < spec.space.dims.size(); ++d) {
      overrides.push_back(spec.space.dims[d].path + "=" + ranked[0]->values[d].text);
    }
    ModelFile best = spec.base.with(overrides);
    build_model(best, registry);  // the best model must itself be a valid model
    detail::write_file_atomic(dir / "best.yaml", "# The base model with the best trial's values (trial " +
                                                     std::to_string(ranked[0]->id) + ").\n" + best.text());
    out << fmt::format("compute: {} trial-epochs ({} trials pruned); the best score was reached after {}\n", spent,
                       pruned, spent_at_best);
    out << fmt::format("best model: {}\n", (dir / "best.yaml").string());
  }
  out.flush();
}

}  // namespace

SearchResult run_search(const SearchRequest& req, std::ostream& out) {
  Registry registry;
  PluginLoader loader(registry, req.plugins);
  loader.load_search_path();
  detail::SearchSpec spec = detail::load_search_spec(req.file, registry);
  const std::int64_t workers = req.workers ? *req.workers : spec.workers;
  if (workers < 1 || workers > 256) throw InputError("--workers must be between 1 and 256");

  Model base = build_model(spec.base, registry);
  DataSplits data = load_data(base.data, base.train.seed);
  build_network(base, data);  // the base model must fit the data before any trial starts

  SearchResult result;
  result.dir = req.out ? *req.out : fs::path("runs") / ("search-" + spec.name);
  std::error_code ec;
  fs::create_directories(result.dir, ec);
  if (ec || ::access(result.dir.c_str(), W_OK) != 0) {
    throw InputError(fmt::format("{}: cannot create or write the search folder", result.dir.string()));
  }
  detail::Journal journal(result.dir / "journal.jsonl", spec.fingerprint);
  check_journal(journal, spec.space);
  detail::write_file_atomic(result.dir / "base-model.yaml", spec.base.text());
  const auto resumed = static_cast<std::int64_t>(journal.finished().size());
  out << fmt::format(
             "search {}: {} round(s) of {} trials, {} epochs each, {} worker(s), scored by {} on {} validation "
             "samples{}; folder {}",
             spec.name, spec.rounds, spec.trials, spec.epochs, workers, spec.metric, data.validation.size(),
             resumed ? fmt::format("; resuming with {} finished trials", resumed) : "", result.dir.string())
      << std::endl;

  SigintScope sigint;
  Driver driver(spec, registry, data, journal, out, req.progress && ::isatty(STDERR_FILENO));
  std::vector<SearchSpace> spaces{spec.space};
  for (std::int64_t r = 0; r < spec.rounds; ++r) {
    if (r > 0) {
      std::vector<TrialReport> previous;
      for (const auto& [id, t] : driver.rounds().back()) previous.push_back(t);
      spaces.push_back(spec.strategy->narrow(spaces.back(), previous, spec.keep));
    }
    out << fmt::format("round {}: {}", r + 1, describe_space(spaces.back())) << std::endl;
    if (!driver.run_round(r, spaces.back(), r * spec.trials, (r + 1) * spec.trials, workers)) {
      result.interrupted = true;
      break;
    }
  }
  result.trials_run = driver.run_count();
  result.trials_finished = static_cast<std::int64_t>(journal.finished().size());
  if (result.interrupted) {
    out << fmt::format("\ninterrupted: {} trials finished are in {}; rerun the same command to resume",
                       result.trials_finished, (result.dir / "journal.jsonl").string())
        << std::endl;
    return result;
  }
  write_results(result.dir, spec, spaces, driver.rounds(), registry, out);
  return result;
}

}  // namespace lamina
