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

// The model overrides that make trial `task` of a search: its values, epochs and own seed.
std::vector<std::string> trial_overrides(const SearchSpec& spec, const Task& task);

// Trains one trial here; `observer` reports epochs and says when to stop.
Outcome train_trial(const SearchSpec& spec, const Registry& registry, const DataSplits& data,
                    const std::vector<std::string>& overrides, TrainObserver& observer);

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
