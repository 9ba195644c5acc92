#include "search/executor.hpp"

#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <exception>
#include <thread>

#include "init_from.hpp"
#include "lamina/error.hpp"

namespace lamina::detail {
namespace {

// Passes each epoch's score on and stops the trainer when told to, or when the search stops.
class ReportingObserver final : public ScoreObserver {
 public:
  ReportingObserver(const Metric& metric, const EpochReport& report, std::stop_token stop)
      : ScoreObserver(metric), report_(report), stop_(std::move(stop)) {}
  bool on_score(double score) override { return report_(score); }
  bool stopping() const override { return stop_.stop_requested(); }

 private:
  const EpochReport& report_;
  std::stop_token stop_;
};

// Passes everything on to the trial's observer and keeps what `objectives:` measures: the
// last epoch's validation metrics and the training time of every epoch.
class Measuring final : public TrainObserver {
 public:
  explicit Measuring(TrainObserver& inner) : inner_(inner) {}
  void on_batch(std::int64_t epoch, std::int64_t batch, std::int64_t batches, float loss) override {
    inner_.on_batch(epoch, batch, batches, loss);
  }
  void on_epoch(const EpochMetrics& m) override {
    last_ = m;
    train_seconds_ += m.train_seconds;
    ++epochs_;
    inner_.on_epoch(m);
  }
  bool should_stop() override { return inner_.should_stop(); }

  // The objectives' shown values; empty if no epoch finished.
  std::vector<double> measured(const SearchSpec& spec, Model& model) const {
    std::vector<double> out;
    if (epochs_ == 0) return out;
    for (const Objective& o : spec.objectives) {
      switch (o.source) {
        case Objective::Source::Metric:
          out.push_back(o.metric.shown(trial_score(o.metric, last_)));
          break;
        case Objective::Source::Parameters:
          out.push_back(static_cast<double>(model.network.parameter_count()));
          break;
        case Objective::Source::SecondsPerEpoch:
          out.push_back(train_seconds_ / static_cast<double>(epochs_));
          break;
      }
    }
    return out;
  }

 private:
  TrainObserver& inner_;
  EpochMetrics last_;
  double train_seconds_ = 0;
  std::int64_t epochs_ = 0;
};

// One model of a trial's seeds: training as train_trial does it.
Outcome train_one(const SearchSpec& spec, const Registry& registry, const DataSplits& data,
                  const std::vector<std::string>& overrides, TrainObserver& observer) {
  Outcome o;
  try {
    Model model = build_model(spec.base.with(overrides), registry);
    build_network(model, data);
    check_watched(model, data);
    init_from_run(model, nullptr);  // reported once, by the driver, for the base model
    Trainer trainer(model, data, TrainerOptions{false});
    if (spec.objectives.empty()) {
      trainer.run(&observer);
    } else {
      Measuring measuring(observer);
      trainer.run(&measuring);
      o.objectives = measuring.measured(spec, model);
    }
  } catch (const PluginFailure&) {
    throw;  // the search's own plugins failed, not this trial
  } catch (const Diverged& e) {
    o.status = TrialStatus::Diverged;
    o.error = e.what();
  } catch (const Error& e) {
    o.status = TrialStatus::Failed;
    o.error = e.what();
  }
  return o;
}

// The seeds of a repeated trial in step: each seed's thread waits at the barrier after each
// epoch; the last to arrive averages the epoch's scores in seed order and asks the trial's
// observer, whose answer every seed then follows. A seed that ends (done, diverged, failed)
// drops out of the barrier, so the others never wait for it.
class Lockstep {
 public:
  Lockstep(ScoreObserver& outer, std::size_t seeds)
      : outer_(outer), scores_(seeds), arrived_(seeds), all_(seeds), sync_(static_cast<std::ptrdiff_t>(seeds), Done{this}) {}

  class Seed final : public TrainObserver {
   public:
    Seed(Lockstep& l, std::size_t i) : l_(l), i_(i) {}
    void on_epoch(const EpochMetrics& m) override {
      l_.scores_[i_] = trial_score(l_.outer_.metric(), m);
      l_.all_[i_].push_back(l_.scores_[i_]);
      l_.arrived_[i_] = 1;
      l_.sync_.arrive_and_wait();
    }
    bool should_stop() override { return l_.halt_ || l_.outer_.stopping(); }

   private:
    Lockstep& l_;
    std::size_t i_;
  };

  void failed() { failed_ = true; }
  void leave() { sync_.arrive_and_drop(); }
  std::exception_ptr error() const { return error_; }
  std::vector<std::vector<double>> scores() const { return all_; }

 private:
  struct Done {
    Lockstep* l;
    void operator()() noexcept { l->epoch_done(); }
  };
  void epoch_done() noexcept {
    double sum = 0;
    std::size_t n = 0;
    for (std::size_t i = 0; i < scores_.size(); ++i) {
      if (arrived_[i]) sum += scores_[i], ++n;
      arrived_[i] = 0;
    }
    // Every seed must have finished the epoch: one that did not was stopped (the search stops)
    // or failed, and a mean of the others would depend on timing. Nothing is reported then.
    if (failed_ || halt_ || n != scores_.size()) {
      halt_ = true;
      return;
    }
    try {
      halt_ = outer_.on_score(sum / static_cast<double>(n));
    } catch (...) {
      error_ = std::current_exception();  // a pruner that threw: rethrown once every seed ended
      halt_ = true;
    }
  }

  ScoreObserver& outer_;
  std::vector<double> scores_;
  std::vector<char> arrived_;
  std::vector<std::vector<double>> all_;
  std::atomic<bool> halt_ = false, failed_ = false;
  std::exception_ptr error_;
  std::barrier<Done> sync_;
};

}  // namespace

double trial_score(const Metric& metric, const EpochMetrics& m) {
  const std::string_view name = std::string_view(metric.name).substr(4);  // past "val_"
  return metric.score(name == "loss" ? m.validation->loss : m.validation->metric(name));
}

std::vector<std::string> trial_overrides(const SearchSpec& spec, const Task& task) {
  std::vector<std::string> overrides = space_overrides(spec.space, spec.tree, task.values);
  overrides.push_back(fmt::format("train.epochs={}", spec.epochs));
  overrides.push_back(fmt::format("train.seed={}", repeat_seeds(spec, task.id).front()));
  overrides.push_back("train.train_metrics=running");
  return overrides;
}

std::vector<std::uint64_t> repeat_seeds(const SearchSpec& spec, std::int64_t id) {
  Rng seed_rng(spec.seed, Rng::derived(StreamFamily::TrialSeed, static_cast<std::uint64_t>(id)));
  std::vector<std::uint64_t> seeds;
  for (std::int64_t r = 0; r < std::max<std::int64_t>(1, spec.repeats); ++r) seeds.push_back(seed_rng.next() >> 33);
  return seeds;
}

Outcome train_trial(const SearchSpec& spec, const Registry& registry, const DataSplits& data,
                    const std::vector<std::string>& overrides, ScoreObserver& observer,
                    const std::vector<std::uint64_t>& seeds) {
  if (seeds.size() <= 1) return train_one(spec, registry, data, overrides, observer);
  Lockstep lockstep(observer, seeds.size());
  std::vector<Outcome> outcomes(seeds.size());
  std::vector<std::exception_ptr> thrown(seeds.size());
  {
    std::vector<std::jthread> threads;
    for (std::size_t i = 0; i < seeds.size(); ++i) {
      threads.emplace_back([&, i] {
        omp_set_num_threads(1);  // each seed on one thread, as a trial is
        Lockstep::Seed seed(lockstep, i);
        std::vector<std::string> mine = overrides;
        mine.push_back(fmt::format("train.seed={}", seeds[i]));  // the last --set of a key wins
        try {
          outcomes[i] = train_one(spec, registry, data, mine, seed);
          if (outcomes[i].status != TrialStatus::Ok) lockstep.failed();
        } catch (...) {
          thrown[i] = std::current_exception();
          lockstep.failed();
        }
        lockstep.leave();
      });
    }
  }
  for (const auto& e : thrown) {
    if (e) std::rethrow_exception(e);
  }
  if (lockstep.error()) std::rethrow_exception(lockstep.error());
  Outcome o;
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    if (outcomes[i].status != TrialStatus::Ok) {
      o = outcomes[i];
      o.error = fmt::format("seed {} of {}: {}", i + 1, seeds.size(), o.error);
      break;
    }
  }
  o.repeat_scores = lockstep.scores();
  if (o.status == TrialStatus::Ok && !spec.objectives.empty()) {
    // The seeds' means, summed in seed order (the same for any timing).
    o.objectives.assign(spec.objectives.size(), 0.0);
    for (const Outcome& seed : outcomes) {
      if (seed.objectives.size() != o.objectives.size()) {
        o.objectives.clear();  // a seed stopped before its first epoch
        break;
      }
      for (std::size_t i = 0; i < o.objectives.size(); ++i) {
        o.objectives[i] += seed.objectives[i] / static_cast<double>(outcomes.size());
      }
    }
  }
  return o;
}

Outcome ThreadExecutor::run(int, const Task& task, const EpochReport& report, std::stop_token stop) {
  omp_set_num_threads(1);  // one thread per trial: the same numbers for any worker count
  ReportingObserver observer(spec_.metric, report, std::move(stop));
  return train_trial(spec_, registry_, data_, trial_overrides(spec_, task), observer, repeat_seeds(spec_, task.id));
}

}  // namespace lamina::detail
