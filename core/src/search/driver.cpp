// The search driver: reads the search file and the journal, then runs the rounds — one thread
// per worker slot (local threads, and proxies for the slots of other MPI ranks), each asking
// the scheduler for a trial, handing it to its executor, journaling and reporting what
// finished. The parts: search/spec (the file), search/scheduler (ids, proposals, pruning
// order), search/executor and search/mpi_executor (where trials train), search/journal,
// search/reporter (console and result files).
#include "runtime/search.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <stop_token>
#include <thread>

#include "atomic_file.hpp"
#include "init_from.hpp"
#include "lamina/error.hpp"
#include "live_marker.hpp"
#include "runtime/plugin_loader.hpp"
#include "search/executor.hpp"
#include "search/journal.hpp"
#include "search/mpi_executor.hpp"
#include "search/reporter.hpp"
#include "search/scheduler.hpp"
#include "search/spec.hpp"
#include "serve/beside.hpp"
#include "session.hpp"
#include "stop_signals.hpp"

namespace fs = std::filesystem;

namespace lamina {
namespace {

// Ctrl-C asks the search to stop: a watcher thread turns the signal's flag into a request on
// the search's stop source. Running trials end at their next batch and are not journaled (a
// resume reruns them); finished ones are all in the journal already.
class SigintStop {
 public:
  explicit SigintStop(std::stop_source& stop) : signals_({SIGINT}) {
    watcher_ = std::jthread([&stop](std::stop_token done) {
      while (!done.stop_requested()) {
        if (detail::StopSignals::raised()) {
          stop.request_stop();
          return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
  }
  ~SigintStop() { watcher_ = {}; }  // joined before the handler goes

 private:
  detail::StopSignals signals_;
  std::jthread watcher_;
};

// "'tpe' (plugin samplers 0.1.0, FILE)": how messages name a sampler or pruner.
std::string type_named(const Registry& registry, Kind kind, const std::string& type) {
  if (type.empty()) return "";
  const TypeInfo* info = registry.find(kind, type);
  return info ? fmt::format("'{}' (plugin {} {}, {})", type, info->provider.plugin, info->provider.version,
                            info->provider.file)
              : fmt::format("'{}'", type);
}

// Before the search folder exists, the sampler proposes trial 0 and the pruner judges a lone
// trial at every epoch (both pure functions of their arguments): a plugin that throws or
// answers outside the space is named there, with nothing written.
void preflight(const detail::SearchSpec& spec, const Registry& registry) {
  detail::SchedulerOptions options{1,
                                   spec.epochs,
                                   spec.seed,
                                   0,
                                   type_named(registry, Kind::Sampler, spec.sampler_type),
                                   type_named(registry, Kind::Pruner, spec.pruner_type),
                                   spec.tree,
                                   {}};
  std::stop_source stop;
  detail::Scheduler scheduler(options, *spec.sampler, spec.pruner.get(), {}, stop.get_token());
  scheduler.begin_round(0, spec.space);
  const auto task = scheduler.next();
  for (std::int64_t e = 1; e <= spec.epochs && task; ++e) {
    if (scheduler.report(task->id, 0.5)) break;
  }
}

// Runs the rounds' trials on every executor's slots; returns false if the search stopped.
class Rounds {
 public:
  Rounds(const detail::SearchSpec& spec, detail::Journal& journal, detail::Scheduler& scheduler,
         detail::Reporter& reporter, std::vector<detail::Executor*> executors, std::stop_source& stop)
      : spec_(spec),
        journal_(journal),
        scheduler_(scheduler),
        reporter_(reporter),
        executors_(std::move(executors)),
        stop_(stop) {}

  void run(std::int64_t round, const SearchSpace& space) {
    scheduler_.begin_round(round, space);
    std::vector<std::thread> threads;
    std::exception_ptr failure;
    std::mutex failure_mu;
    for (auto* executor : executors_) {
      for (int slot = 0; slot < executor->slots(); ++slot) {
        threads.emplace_back([&, executor, slot] {
          try {
            work(*executor, slot, space);
          } catch (...) {
            std::lock_guard lock(failure_mu);
            if (!failure) failure = std::current_exception();
            stop_.request_stop();  // the other trials end at their next batch
          }
        });
      }
    }
    for (auto& t : threads) t.join();
    if (failure) std::rethrow_exception(failure);
  }

 private:
  void work(detail::Executor& executor, int slot, const SearchSpace& space) {
    while (const auto task = scheduler_.next()) {
      const auto start = std::chrono::steady_clock::now();
      const detail::Outcome o = executor.run(
          slot, *task, [&](double score) { return scheduler_.report(task->id, score); }, stop_.get_token());
      const auto finished = scheduler_.finish(task->id, o.status, detail::objective_scores(spec_, o.objectives));
      if (!finished) continue;  // cut short by a stop
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::vector<std::pair<std::string, double>> named;
      for (std::size_t i = 0; i < o.objectives.size() && i < spec_.objectives.size(); ++i) {
        named.emplace_back(spec_.objectives[i].metric.name, o.objectives[i]);
      }
      const auto done =
          journal_.append(detail::trial_to_json(*finished, space, seconds, o.error, o.repeat_scores, named));
      reporter_.trial_finished(*finished, seconds, o.error, static_cast<std::int64_t>(done),
                               scheduler_.finished_here());
    }
  }

  const detail::SearchSpec& spec_;
  detail::Journal& journal_;
  detail::Scheduler& scheduler_;
  detail::Reporter& reporter_;
  std::vector<detail::Executor*> executors_;
  std::stop_source& stop_;
};

}  // namespace

SearchResult run_search(const SearchRequest& req, std::ostream& out) {
  if (req.workers && (*req.workers < 1 || *req.workers > 256)) throw RequestError("--workers must be between 1 and 256");
  const auto dashboard = detail::dashboard_beside(req.serve, req.cluster, req.plugins,
                                                  req.out ? detail::parent_folder(*req.out) : fs::path("runs"), out);
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
  std::map<std::int64_t, Trial> finished;
  std::map<std::int64_t, std::vector<double>> objectives;  // finished trials' objective scores
  std::int64_t workers = 0;
  SearchResult result;
  together([&] {
    loader.load_search_path();
    loaded_spec.emplace(detail::load_search_spec(req.file, registry));
    preflight(*loaded_spec, registry);
    workers = req.workers ? *req.workers : loaded_spec->workers;  // both in 1..256 (checked above, and by the schema)
    Model base = build_model(loaded_spec->base, registry);
    loaded_data.emplace(load_data(base.data, base.train.seed));
    build_network(base, *loaded_data);  // the base model must fit the data before any trial starts
    check_watched(base, *loaded_data);
    detail::init_from_run(base, leader ? &out : nullptr);  // trials load it again, silently
    detail::resolve_objectives(*loaded_spec, base);  // a metric's direction is its plugin's
    if (!leader) return;
    result.dir = req.out ? *req.out : fs::path("runs") / ("search-" + loaded_spec->name);
    std::error_code ec;
    fs::create_directories(result.dir, ec);
    if (ec || ::access(result.dir.c_str(), W_OK) != 0) {
      throw InputError(fmt::format("{}: cannot create or write the search folder", result.dir.string()));
    }
    std::vector<std::pair<std::string, bool>> directions;  // the journal header's objectives
    for (const auto& o : loaded_spec->objectives) {
      directions.emplace_back(o.metric.name, o.metric.direction == detail::Metric::Direction::Maximize);
    }
    opened.emplace(result.dir / "journal.jsonl", loaded_spec->fingerprint, loaded_spec->metric.name,
                   loaded_spec->metric.direction == detail::Metric::Direction::Maximize, directions);
    // Every finished trial must read back before the search starts: a line edited by hand is
    // reported, naming it, instead of failing mid-search.
    const std::int64_t budget = loaded_spec->trials * loaded_spec->rounds;
    for (const auto& [id, line] : opened->finished()) {
      const std::string where = fmt::format("{}:{}", opened->file().string(), opened->line_of(id));
      if (id < 0 || id >= budget) {
        throw InputError(fmt::format("{}: trial {} is outside this search's trials 0 to {} ({} per round x {} "
                                     "rounds); remove its line",
                                     where, id, budget - 1, loaded_spec->trials, loaded_spec->rounds));
      }
      finished[id] = detail::trial_from_json(line, loaded_spec->space, *opened);
      if (!loaded_spec->objectives.empty()) {
        const auto shown = detail::objectives_from_json(line, loaded_spec->objective_names());
        if (shown.empty() && finished[id].status == TrialStatus::Ok) {
          throw InputError(fmt::format("{}: trial {} has no value for each of the search's objectives; remove its "
                                       "line to rerun it",
                                       where, id));
        }
        if (!shown.empty()) objectives[id] = detail::objective_scores(*loaded_spec, shown);
      }
      if (const std::string why = detail::outside_tree(finished[id].values, loaded_spec->space, loaded_spec->tree);
          !why.empty()) {
        throw InputError(fmt::format("{}: trial {} has values outside the search's space: {}; remove its line to "
                                     "rerun it",
                                     where, id, why));
      }
    }
  });
  detail::SearchSpec& spec = *loaded_spec;
  const DataSplits& data = *loaded_data;
  if (!leader) {
    detail::serve_remote_trials(*cluster, static_cast<int>(workers), spec, registry, data);
    return result;
  }
  detail::Journal& journal = *opened;
  const detail::LiveMarker live(result.dir);  // for `lamina serve`: the search is in progress
  detail::write_file_atomic(result.dir / "base-model.yaml", spec.base.text());
  const auto resumed = static_cast<std::int64_t>(finished.size());
  const std::int64_t slots = workers * (cluster ? cluster->size() - 1 : 0) + workers;
  out << fmt::format(
             "search {}: {} round(s) of {} trials, {} epochs each{}, {}{} worker(s), scored by {} on {} validation "
             "samples{}; folder {}",
             spec.name, spec.rounds, spec.trials, spec.epochs,
             spec.repeats > 1 ? fmt::format(" on {} seeds (the score is their mean)", spec.repeats) : "",
             cluster ? fmt::format("{} ranks x ", cluster->size()) : "", workers, spec.metric.name,
             data.validation.size(), resumed ? fmt::format("; resuming with {} finished trials", resumed) : "",
             result.dir.string())
      << std::endl;
  out << fmt::format("sampler {}{}", type_named(registry, Kind::Sampler, spec.sampler_type),
                     spec.pruner ? ", pruner " + type_named(registry, Kind::Pruner, spec.pruner_type) : std::string())
      << std::endl;
  if (!spec.enqueued.empty()) {
    out << fmt::format("enqueue: trials 0 to {} take the search file's points", spec.enqueued.size() - 1) << std::endl;
  }
  if (!spec.warm_from.empty()) {
    out << fmt::format("warm start: {} of the {} trials of {} are points of this space and begin every proposal's "
                       "history{}",
                       spec.warm.size(), spec.warm_read, spec.warm_from.string(),
                       spec.sampler->uses_history() ? "" : fmt::format(" (sampler {} ignores history)", spec.sampler_type))
        << std::endl;
  }
  if (spec.sampler->uses_history() && slots > spec.lag + 1) {
    out << fmt::format(
               "note: with lag {} at most {} trials run at once (the sampler waits for the trials it "
               "learns from); set `lag: {}` in the search file to use all {} workers",
               spec.lag, spec.lag + 1, slots - 1, slots)
        << std::endl;
  }

  std::stop_source stop;
  const SigintStop sigint(stop);
  detail::SchedulerOptions options{spec.trials,
                                   spec.epochs,
                                   spec.seed,
                                   spec.lag,
                                   type_named(registry, Kind::Sampler, spec.sampler_type),
                                   type_named(registry, Kind::Pruner, spec.pruner_type),
                                   spec.tree,
                                   spec.enqueued};
  for (std::size_t i = 0; i < spec.warm.size(); ++i) {
    finished[spec.warm[i].id] = spec.warm[i];
    if (i < spec.warm_objectives.size() && !spec.warm_objectives[i].empty()) {
      objectives[spec.warm[i].id] = detail::objective_scores(spec, spec.warm_objectives[i]);
    }
  }
  detail::Scheduler scheduler(options, *spec.sampler, spec.pruner.get(), std::move(finished), stop.get_token(),
                              std::move(objectives));
  detail::Reporter reporter(spec, out, req.progress && ::isatty(STDERR_FILENO), spec.trials * spec.rounds);
  detail::ThreadExecutor local(spec, registry, data, static_cast<int>(workers));
  std::optional<detail::MpiExecutor> remote;
  std::vector<detail::Executor*> executors{&local};
  if (cluster) executors.push_back(&remote.emplace(*cluster, spec, static_cast<int>(workers)));
  Rounds rounds(spec, journal, scheduler, reporter, executors, stop);

  std::vector<SearchSpace> spaces{spec.space};
  std::vector<std::vector<Trial>> trials;
  for (std::int64_t r = 0; r < spec.rounds; ++r) {
    if (r > 0) spaces.push_back(detail::narrow(spaces.back(), trials.back(), spec.keep));
    out << fmt::format("round {}: {}", r + 1, detail::describe_space(spaces.back(), spec.tree)) << std::endl;
    rounds.run(r, spaces.back());  // a failure ends the job (the other ranks are aborted by main)
    trials.push_back(scheduler.round_trials(r));
    if (stop.stop_requested()) {
      result.interrupted = true;
      break;
    }
  }
  if (remote) remote->release();
  result.trials_run = scheduler.finished_here();
  result.trials_finished = static_cast<std::int64_t>(journal.finished().size());
  if (result.interrupted) {
    out << fmt::format("\ninterrupted: {} trials finished are in {}; rerun the same command to resume",
                       result.trials_finished, (result.dir / "journal.jsonl").string())
        << std::endl;
    return result;
  }
  // A search in which no trial produced a score has nothing to rank: said, with the first
  // failure's words and the count of each status, as a failure (exit 1), not as success.
  {
    std::map<std::string, std::int64_t> counts;
    std::string first_error;
    for (const auto& [id, j] : journal.finished()) {
      const std::string status = j.value("status", "");
      ++counts[status];
      if (first_error.empty() && j.contains("error") && j["error"].is_string()) {
        first_error = fmt::format("trial {}: {}", id, j["error"].get<std::string>());
      }
    }
    if (!counts.empty() && counts["ok"] + counts["pruned"] == 0) {
      std::string tally;
      for (const auto& [status, n] : counts) {
        if (n > 0) tally += fmt::format("{}{} {}", tally.empty() ? "" : ", ", n, status);
      }
      throw Error(fmt::format("no trial of {} finished with a score ({}){}; nothing to rank",
                              (result.dir / "journal.jsonl").string(), tally,
                              first_error.empty() ? "" : "; the first failure: " + first_error));
    }
  }
  // A repeated trial's spread: the sample standard deviation of its seeds' final scores, read
  // from the journal (so resumed trials have theirs too).
  std::map<std::int64_t, double> repeat_sd;
  for (const auto& [id, j] : journal.finished()) {
    if (!j.contains("repeat_scores") || !j["repeat_scores"].is_array()) continue;
    std::vector<double> finals;
    for (const auto& seed : j["repeat_scores"]) {
      if (seed.is_array() && !seed.empty() && seed.back().is_number()) finals.push_back(seed.back().get<double>());
    }
    if (finals.size() < 2) continue;
    double mean = 0, ss = 0;
    for (double f : finals) mean += f / static_cast<double>(finals.size());
    for (double f : finals) ss += (f - mean) * (f - mean);
    repeat_sd[id] = std::sqrt(ss / static_cast<double>(finals.size() - 1));
  }
  std::map<std::int64_t, std::vector<double>> shown_objectives;  // `objectives:`, as the journal holds them
  if (!spec.objectives.empty()) {
    for (const auto& [id, j] : journal.finished()) {
      if (auto v = detail::objectives_from_json(j, spec.objective_names()); !v.empty()) shown_objectives[id] = std::move(v);
    }
  }
  reporter.write_results(result.dir, spaces, trials, [&](const Trial& best) {
    ModelFile model = spec.base.with(detail::space_overrides(spec.space, spec.tree, best.values));
    build_model(model, registry);  // the best model must itself be a valid model
    return model.text();
  }, repeat_sd, shown_objectives);
  return result;
}

}  // namespace lamina
