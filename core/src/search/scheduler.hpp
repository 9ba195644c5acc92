// The search's scheduler: which trial runs next, with which values, and whether a running
// trial goes on. It owns every trial's state; workers (threads, or proxies for MPI ranks)
// only ask it. Two waits make the search independent of how many workers run it:
//   - proposals: trial k's sampler sees exactly the trials numbered below k - lag, so next()
//     waits until those have finished (never, for a sampler that ignores history);
//   - pruning: trial k is judged at epoch e only once every earlier trial of its round has
//     reached epoch e or finished, and only at epochs where the pruner decides.
// Both waits end when the stop token is triggered (Ctrl-C, or a worker failed); next() then
// hands out nothing more.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stop_token>
#include <string>
#include <vector>

#include "lamina/error.hpp"
#include "lamina/pruner.hpp"
#include "lamina/sampler.hpp"
#include "search/space_tree.hpp"

namespace lamina::detail {

// A sampler or pruner that threw or answered outside its contract: it ends the search (exit 2,
// as a plugin that fails to register does), named, rather than failing the trial it was asked
// about.
class PluginFailure : public InputError {
 public:
  using InputError::InputError;
};

struct SchedulerOptions {
  std::int64_t trials = 1;  // per round; round r holds ids [r * trials, (r + 1) * trials)
  std::int64_t epochs = 1;  // per trial
  std::uint64_t seed = 1;   // with the trial id, the stream of its proposal
  std::int64_t lag = 0;
  std::string sampler_name = "?", pruner_name = "?";  // for messages: "'tpe' (plugin samplers 0.1.0, FILE)"
  SpaceTree tree;  // where each dimension lives (search/space_tree.hpp); empty: a flat space
  std::vector<std::vector<Value>> enqueued;  // trials 0.. take these values instead of proposals
};

// A trial handed to a worker.
struct Task {
  std::int64_t id = 0;
  std::int64_t round = 0;
  std::vector<Value> values;
};

class Scheduler {
 public:
  // `finished`: trials read back from the journal; they are never run again. Trials with negative
  // ids (a warm start's) are in every proposal's history and in no round.
  // `objectives`: finished trials' objective scores (`objectives:`, higher is better), by id.
  Scheduler(SchedulerOptions options, Sampler& sampler, Pruner* pruner, std::map<std::int64_t, Trial> finished,
            std::stop_token stop, std::map<std::int64_t, std::vector<double>> objectives = {});

  // Starts round `round` (from 0), proposing in `space`. The previous round must be over.
  void begin_round(std::int64_t round, const SearchSpace& space);
  // The next trial of the round to run, or nothing when none is left or the search stops.
  std::optional<Task> next();
  // Trial `id` finished one more epoch with `score` (higher is better); true: stop it.
  bool report(std::int64_t id, double score);
  // Trial `id`'s training ended with `trained` (Ok, Diverged or Failed). Returns the finished
  // trial to journal (Pruned if the pruner stopped it early), or nothing if it was cut short
  // by a stop: it is then left unfinished and a resume runs it again.
  // `objectives`: its objective scores (`objectives:`; empty without).
  std::optional<Trial> finish(std::int64_t id, TrialStatus trained, std::vector<double> objectives = {});
  bool stopping() const { return stop_.stop_requested(); }
  // The round's trials in id order (after it ran: all finished unless the search stopped).
  std::vector<Trial> round_trials(std::int64_t round) const;
  // How many trials were finished by this process (not read back).
  std::int64_t finished_here() const;

 private:
  bool history_ready(std::int64_t id) const;                       // holds mu_
  bool earlier_reached(std::int64_t id, std::size_t epoch) const;  // holds mu_
  void pareto_scores(std::vector<Trial>& history) const;            // holds mu_

  SchedulerOptions o_;
  Sampler& sampler_;
  Pruner* pruner_;
  std::stop_token stop_;
  mutable std::mutex mu_;
  std::condition_variable_any changed_;
  std::map<std::int64_t, Trial> trials_;  // every trial of every round begun
  std::set<std::int64_t> prune_decided_;  // trials the pruner said to stop
  std::map<std::int64_t, std::vector<double>> objectives_;  // finished trials' objective scores
  SearchSpace space_;
  std::int64_t round_ = 0, begin_ = 0, end_ = 0, next_ = 0, finished_here_ = 0;
};

// Why `values` are not a point of `space` (wrong count, a number outside a range, not one of
// the choices); empty if they are.
std::string outside(const std::vector<Value>& values, const SearchSpace& space);

// Whether every numeric value of `t` lies in `space`'s ranges (narrowing leaves trials of
// earlier rounds outside).
bool inside(const Trial& t, const SearchSpace& space);

// Between rounds: each numeric range becomes the span of the top `keep` fraction (at least
// two) of the round's trials that ended ok or pruned and in which it was active, ranked by
// final score (so each branch of a conditional space narrows on the trials that tried it); a
// log range's span is the same set, so it stays a log range; choices are kept.
SearchSpace narrow(const SearchSpace& space, const std::vector<Trial>& round, double keep);

}  // namespace lamina::detail
