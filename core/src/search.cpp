// The search driver: rounds of trials run by worker threads, pruning decisions made in trial
// order (so any worker count gives the same search), an append-only journal for resuming, and
// the ranked results.
#include "runtime/search.hpp"

#include <csv.h>
#include <fmt/format.h>
#include <omp.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <csignal>
#include <functional>
#include <mutex>
#include <optional>
#include <ostream>
#include <thread>

#include "atomic_file.hpp"
#include "runtime/commands.hpp"
#include "lamina/error.hpp"
#include "runtime/plugin_loader.hpp"
#include "session.hpp"
#include "runtime/trainer.hpp"
#include "live_marker.hpp"
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
  r.round = j.at("round").get<std::int64_t>() - 1;  // 1-based in the journal, as everywhere a user reads
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
  j["round"] = r.round + 1;
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

double score_of(const detail::SearchSpec& spec, const EpochMetrics& m) {
  return spec.metric == "val_loss" ? -m.validation->loss : m.validation->accuracy;
}

// Records trial `id`'s score of its next epoch and returns whether to prune it. Decides only
// once every earlier trial has reached this epoch or ended, so the decision is the one a serial
// search would make, wherever the trials run.
bool record_score(Round& round, std::int64_t id, double score, const detail::SearchSpec& spec) {
  std::unique_lock lock(round.mu);
  TrialReport& me = round.reports[id];
  me.scores.push_back(score);
  round.changed.notify_all();
  if (!spec.pruning.enabled) return false;
  const std::size_t e = me.scores.size();
  round.changed.wait(lock, [&] {
    if (g_interrupted.load()) return true;
    for (auto it = round.reports.begin(); it != round.reports.end() && it->first < id; ++it) {
      if (!it->second.finished && it->second.scores.size() < e) return false;
    }
    return true;
  });
  if (g_interrupted.load()) return false;
  std::vector<TrialReport> earlier;
  for (auto it = round.reports.begin(); it != round.reports.end() && it->first < id; ++it) {
    earlier.push_back(it->second);
  }
  return spec.strategy->should_stop(me, earlier, spec.pruning);
}

class TrialObserver : public TrainObserver {
 public:
  TrialObserver(Round& round, std::int64_t id, const detail::SearchSpec& spec) : round_(round), id_(id), spec_(spec) {}

  void on_epoch(const EpochMetrics& m) override { pruned_ = record_score(round_, id_, score_of(spec_, m), spec_); }
  bool should_stop() override { return pruned_ || g_interrupted.load(); }
  bool pruned() const { return pruned_; }

 private:
  Round& round_;
  std::int64_t id_;
  const detail::SearchSpec& spec_;
  bool pruned_ = false;
};

// The model overrides that make trial `id` of a search: its values, epochs and own seed.
std::vector<std::string> trial_overrides(const detail::SearchSpec& spec, const SearchSpace& space, std::int64_t id,
                                         const std::vector<Value>& values) {
  std::vector<std::string> overrides;
  for (std::size_t d = 0; d < space.dims.size(); ++d) overrides.push_back(space.dims[d].path + "=" + values[d].text);
  Rng seed_rng(spec.seed, Rng::derived(StreamFamily::TrialSeed, static_cast<std::uint64_t>(id)));
  overrides.push_back(fmt::format("train.epochs={}", spec.epochs));
  overrides.push_back(fmt::format("train.seed={}", seed_rng.next() >> 33));
  overrides.push_back("train.train_metrics=running");
  return overrides;
}

struct TrialOutcome {
  std::string status = "ok", error;
};

// Trains one trial, wherever it runs; the observer reports epochs and decides on pruning.
TrialOutcome train_trial(const detail::SearchSpec& spec, const Registry& registry, const DataSplits& data,
                         const std::vector<std::string>& overrides, TrainObserver& observer) {
  TrialOutcome o;
  try {
    Model model = build_model(spec.base.with(overrides), registry);
    build_network(model, data);
    Trainer trainer(model, data, TrainerOptions{false});
    trainer.run(&observer);
  } catch (const Diverged& e) {
    o.status = "diverged";
    o.error = e.what();
  } catch (const Error& e) {
    o.status = "failed";
    o.error = e.what();
  }
  return o;
}

// The messages between rank 0 and a worker slot of another rank (JSON text, tag = the slot):
//   0 -> worker  {"trial": id, "overrides": [...]}   or {"stop": true} when the search is over
//   worker -> 0  {"score": s} after each epoch, answered {"prune": bool} if the search prunes
//   worker -> 0  {"status": ..., "error": ...} when the trial ends, {"fatal": ...} if the worker
//                cannot go on (what would stop a local search)
class RemoteObserver : public TrainObserver {
 public:
  RemoteObserver(Cluster& cluster, int slot, const detail::SearchSpec& spec)
      : cluster_(cluster), slot_(slot), spec_(spec) {}
  void on_epoch(const EpochMetrics& m) override {
    cluster_.send(0, slot_, json{{"score", score_of(spec_, m)}}.dump());
    // Without pruning there is nothing to decide: no round trip per epoch.
    if (spec_.pruning.enabled) stop_ = json::parse(cluster_.receive(0, slot_)).at("prune").get<bool>();
  }
  bool should_stop() override { return stop_; }

 private:
  Cluster& cluster_;
  int slot_;
  const detail::SearchSpec& spec_;
  bool stop_ = false;
};

// A rank other than 0: runs the trials rank 0 hands to each of its worker slots until told to stop.
void serve_trials(Cluster& cluster, int workers, const detail::SearchSpec& spec, const Registry& registry,
                  const DataSplits& data) {
  std::vector<std::thread> threads;
  for (int slot = 0; slot < workers; ++slot) {
    threads.emplace_back([&, slot] {
      omp_set_num_threads(1);  // one thread per trial, as on rank 0
      for (;;) {
        const json task = json::parse(cluster.receive(0, slot));
        if (task.contains("stop")) return;
        RemoteObserver observer(cluster, slot, spec);
        try {
          const TrialOutcome o =
              train_trial(spec, registry, data, task.at("overrides").get<std::vector<std::string>>(), observer);
          cluster.send(0, slot, json{{"status", o.status}, {"error", o.error}}.dump());
        } catch (const std::exception& e) {
          // What stops a local search (out of memory) stops this one, reported by rank 0.
          cluster.send(0, slot, json{{"fatal", fmt::format("rank {}: {}", cluster.rank(), e.what())}}.dump());
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
}

class Driver {
 public:
  Driver(detail::SearchSpec& spec, const Registry& registry, const DataSplits& data, detail::Journal& journal,
         std::ostream& out, bool live, Cluster* cluster, int remote_workers)
      : spec_(spec),
        registry_(registry),
        data_(data),
        journal_(journal),
        out_(out),
        live_(live),
        cluster_(cluster),
        remote_workers_(remote_workers) {}

  // Tells every worker slot of the other ranks that the search is over.
  void release_remote_workers() {
    if (!cluster_) return;
    for (int rank = 1; rank < cluster_->size(); ++rank) {
      for (int slot = 0; slot < remote_workers_; ++slot) cluster_->send(rank, slot, json{{"stop", true}}.dump());
    }
  }

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
    // A worker is a local thread (rank = 0) or a proxy for a worker slot of another rank.
    auto start_worker = [&](int rank, int slot) {
      threads.emplace_back([&, rank, slot] {
        omp_set_num_threads(1);  // one thread per trial: the same numbers for any worker count
        try {
          work(round, space, rank, slot);
        } catch (...) {
          std::lock_guard lock(round.mu);
          if (!failure) failure = std::current_exception();
          g_interrupted.store(true);
          round.changed.notify_all();
        }
      });
    };
    for (std::int64_t w = 0; w < workers; ++w) start_worker(0, static_cast<int>(w));
    for (int rank = 1; cluster_ && rank < cluster_->size(); ++rank) {
      for (int slot = 0; slot < remote_workers_; ++slot) start_worker(rank, slot);
    }
    for (auto& t : threads) t.join();
    if (failure) std::rethrow_exception(failure);
    rounds_.push_back(round.reports);
    return !g_interrupted.load();
  }

  const std::vector<std::map<std::int64_t, TrialReport>>& rounds() const { return rounds_; }
  std::int64_t run_count() const { return run_count_; }

 private:
  void work(Round& round, const SearchSpace& space, int rank, int slot) {
    for (;;) {
      std::int64_t id;
      std::vector<Value> values;
      {
        std::lock_guard lock(round.mu);
        while (round.next < round.end && round.reports[round.next].finished) ++round.next;
        if (round.next >= round.end || g_interrupted.load()) return;
        id = round.next++;
        Rng rng(spec_.seed, Rng::derived(StreamFamily::TrialProposal, static_cast<std::uint64_t>(id)));
        values = spec_.strategy->propose(space, id, rng);
        round.reports[id].values = values;
      }
      if (rank == 0) {
        run_trial(round, space, id, values);
      } else {
        run_remote_trial(round, space, id, values, rank, slot);
      }
    }
  }

  void run_trial(Round& round, const SearchSpace& space, std::int64_t id, const std::vector<Value>& values) {
    const auto start = std::chrono::steady_clock::now();
    TrialObserver observer(round, id, spec_);
    TrialOutcome o = train_trial(spec_, registry_, data_, trial_overrides(spec_, space, id, values), observer);
    if (o.status == "ok" && observer.pruned() && stopped_early(round, id)) o.status = "pruned";
    finish_trial(round, space, id, o, start);
  }

  // The same trial, trained by worker `slot` of `rank`; the pruning decisions stay here.
  void run_remote_trial(Round& round, const SearchSpace& space, std::int64_t id, const std::vector<Value>& values,
                        int rank, int slot) {
    const auto start = std::chrono::steady_clock::now();
    cluster_->send(rank, slot, json{{"trial", id}, {"overrides", trial_overrides(spec_, space, id, values)}}.dump());
    bool pruned = false;
    for (;;) {
      const json m = json::parse(cluster_->receive(rank, slot));
      if (m.contains("fatal")) throw Error(m.at("fatal").get<std::string>());
      if (!m.contains("score")) {
        TrialOutcome o{m.at("status").get<std::string>(), m.at("error").get<std::string>()};
        if (o.status == "ok" && pruned && stopped_early(round, id)) o.status = "pruned";
        finish_trial(round, space, id, o, start);
        return;
      }
      pruned = record_score(round, id, m.at("score").get<double>(), spec_);
      if (spec_.pruning.enabled) cluster_->send(rank, slot, json{{"prune", pruned || g_interrupted.load()}}.dump());
    }
  }

  // A trial is pruned only if it stopped before its last epoch: a "stop" decided at a rung that
  // is also the last epoch changes nothing.
  bool stopped_early(Round& round, std::int64_t id) {
    std::lock_guard lock(round.mu);
    return static_cast<std::int64_t>(round.reports[id].scores.size()) < spec_.epochs;
  }

  void finish_trial(Round& round, const SearchSpace& space, std::int64_t id, const TrialOutcome& o,
                    std::chrono::steady_clock::time_point start) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::lock_guard lock(round.mu);
    TrialReport& r = round.reports[id];
    const bool complete = o.status != "ok" || static_cast<std::int64_t>(r.scores.size()) == spec_.epochs;
    if (g_interrupted.load() && !complete) {
      round.changed.notify_all();
      return;  // interrupted mid-trial: not journaled, rerun on resume
    }
    r.finished = true;
    r.status = o.status;
    journal_.append(trial_json(r, space, seconds, o.error));
    ++run_count_;
    round.changed.notify_all();
    report(r, space, seconds, o.error);
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
  Cluster* cluster_;
  int remote_workers_;
  std::vector<std::map<std::int64_t, TrialReport>> rounds_;
  std::int64_t run_count_ = 0, done_ = 0;
  double best_ = -INFINITY;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// One CSV field: as is when plain, else quoted by libcsv (a choice such as `{type: adam, lr:
// 0.001}` holds commas and would add columns).
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out(csv_write(nullptr, 0, text.data(), text.size()), '\0');
  csv_write(out.data(), out.size(), text.data(), text.size());
  return out;
}

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
  for (const auto& d : spec.space.dims) (csv += ',') += csv_field(d.path);
  csv += "\n";
  for (std::size_t i = 0; i < ranked.size(); ++i) {
    const auto& t = *ranked[i];
    csv += fmt::format("{},{},{},{},{},{:.6f}", i + 1, t.id, t.round + 1, t.status, t.scores.size(),
                       loss ? -t.scores.back() : t.scores.back());
    for (const auto& v : t.values) (csv += ',') += csv_field(v.text);
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
  Cluster* cluster = req.cluster && req.cluster->size() > 1 ? req.cluster : nullptr;
  const bool leader = !cluster || cluster->rank() == 0;
  // A set-up step that may fail on one rank only (a file it cannot read) must fail on all.
  auto together = [&](const std::function<void()>& step) { cluster ? cluster->agree(step) : step(); };

  detail::Session session(req.plugins);
  Registry& registry = session.registry;
  PluginLoader& loader = session.loader;
  std::optional<detail::SearchSpec> loaded_spec;
  std::optional<DataSplits> loaded_data;
  std::optional<detail::Journal> opened;
  std::int64_t workers = 0;
  SearchResult result;
  together([&] {
    loader.load_search_path();
    loaded_spec.emplace(detail::load_search_spec(req.file, registry));
    workers = req.workers ? *req.workers : loaded_spec->workers;
    if (workers < 1 || workers > 256) throw InputError("--workers must be between 1 and 256");
    Model base = build_model(loaded_spec->base, registry);
    loaded_data.emplace(load_data(base.data, base.train.seed));
    build_network(base, *loaded_data);  // the base model must fit the data before any trial starts
    if (!leader) return;
    result.dir = req.out ? *req.out : fs::path("runs") / ("search-" + loaded_spec->name);
    std::error_code ec;
    fs::create_directories(result.dir, ec);
    if (ec || ::access(result.dir.c_str(), W_OK) != 0) {
      throw InputError(fmt::format("{}: cannot create or write the search folder", result.dir.string()));
    }
    opened.emplace(result.dir / "journal.jsonl", loaded_spec->fingerprint);
    check_journal(*opened, loaded_spec->space);
  });
  detail::SearchSpec& spec = *loaded_spec;
  const DataSplits& data = *loaded_data;
  if (!leader) {
    serve_trials(*cluster, static_cast<int>(workers), spec, registry, data);
    return result;
  }
  detail::Journal& journal = *opened;
  const detail::LiveMarker live(result.dir);  // for `lamina serve`: the search is in progress
  detail::write_file_atomic(result.dir / "base-model.yaml", spec.base.text());
  const auto resumed = static_cast<std::int64_t>(journal.finished().size());
  out << fmt::format(
             "search {}: {} round(s) of {} trials, {} epochs each, {}{} worker(s), scored by {} on {} validation "
             "samples{}; folder {}",
             spec.name, spec.rounds, spec.trials, spec.epochs,
             cluster ? fmt::format("{} ranks x ", cluster->size()) : "", workers, spec.metric, data.validation.size(),
             resumed ? fmt::format("; resuming with {} finished trials", resumed) : "", result.dir.string())
      << std::endl;

  SigintScope sigint;
  Driver driver(spec, registry, data, journal, out, req.progress && ::isatty(STDERR_FILENO), cluster,
                static_cast<int>(workers));
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
  driver.release_remote_workers();
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
