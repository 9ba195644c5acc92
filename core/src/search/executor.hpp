// Where a search's trials train. An executor has slots (one trial each at a time); the driver
// runs one thread per slot, asking the scheduler for a task and handing it to the executor.
//   ThreadExecutor  trains on this process, one OpenMP thread per trial
//   MpiExecutor     (search/mpi_executor.hpp) proxies for worker slots of the other ranks
#pragma once

#include <functional>
#include <stop_token>
#include <string>
#include <vector>

#include "runtime/dataset.hpp"
#include "runtime/registry.hpp"
#include "runtime/trainer.hpp"
#include "search/scheduler.hpp"
#include "search/spec.hpp"

namespace lamina::detail {

struct Outcome {
  TrialStatus status = TrialStatus::Ok;  // Ok (trained, or stopped when asked), Diverged or Failed
  std::string error;
  std::vector<std::vector<double>> repeat_scores;  // `repeats:` > 1: each seed's scores (the trial's are their means)
  // `objectives:`: each one's value after the last epoch trained, as shown (not negated), in
  // the spec's order (a repeated trial: the seeds' means); empty without objectives, or when no
  // epoch finished.
  std::vector<double> objectives;
};

// Called after each epoch with the trial's score; true stops the trial.
using EpochReport = std::function<bool(double score)>;

class Executor {
 public:
  virtual ~Executor() = default;
  virtual int slots() const = 0;
  virtual Outcome run(int slot, const Task& task, const EpochReport& report, std::stop_token stop) = 0;
};

// An epoch's score under `metric`, higher is better.
double trial_score(const Metric& metric, const EpochMetrics& m);

// What watches a trial: its score after each epoch (a repeated trial's mean over its seeds),
// whose answer may stop it, and whether the whole search stops.
class ScoreObserver : public TrainObserver {
 public:
  explicit ScoreObserver(const Metric& metric) : metric_(metric) {}
  void on_epoch(const EpochMetrics& m) final { stop_ = on_score(trial_score(metric_, m)); }
  bool should_stop() final { return stop_ || stopping(); }
  // True stops the trial. Called from one thread at a time.
  virtual bool on_score(double score) = 0;
  // Whether the search stops; asked between batches, from any of a repeated trial's threads.
  virtual bool stopping() const { return false; }
  const Metric& metric() const { return metric_; }

 private:
  const Metric& metric_;
  bool stop_ = false;
};

// The model overrides that make trial `task` of a search: its values, epochs and own seed.
std::vector<std::string> trial_overrides(const SearchSpec& spec, const Task& task);
// The training seed of each of trial `id`'s repeats (`repeats:`); the first is the one
// trial_overrides sets, so `repeats: 1` is a search without the key.
std::vector<std::uint64_t> repeat_seeds(const SearchSpec& spec, std::int64_t id);

// Trains one trial here; `observer` reports epochs and says when to stop. With more than one
// seed, one model per seed, each on a thread of its own, in step: after each epoch the
// observer gets the mean of the seeds' scores (in seed order, so the same for any timing) and
// decides for all; a seed that diverges or fails ends the trial with its status.
Outcome train_trial(const SearchSpec& spec, const Registry& registry, const DataSplits& data,
                    const std::vector<std::string>& overrides, ScoreObserver& observer,
                    const std::vector<std::uint64_t>& seeds = {});

class ThreadExecutor final : public Executor {
 public:
  ThreadExecutor(const SearchSpec& spec, const Registry& registry, const DataSplits& data, int workers)
      : spec_(spec), registry_(registry), data_(data), workers_(workers) {}
  int slots() const override { return workers_; }
  Outcome run(int slot, const Task& task, const EpochReport& report, std::stop_token stop) override;

 private:
  const SearchSpec& spec_;
  const Registry& registry_;
  const DataSplits& data_;
  int workers_;
};

}  // namespace lamina::detail
