#include "search/executor.hpp"

#include <fmt/format.h>
#include <omp.h>

#include "init_from.hpp"
#include "lamina/error.hpp"

namespace lamina::detail {
namespace {

// Passes each epoch's score on and stops the trainer when told to, or when the search stops.
class ReportingObserver final : public TrainObserver {
 public:
  ReportingObserver(const Metric& metric, const EpochReport& report, std::stop_token stop)
      : metric_(metric), report_(report), stop_(std::move(stop)) {}
  void on_epoch(const EpochMetrics& m) override { stop_trial_ = report_(trial_score(metric_, m)); }
  bool should_stop() override { return stop_trial_ || stop_.stop_requested(); }

 private:
  const Metric& metric_;
  const EpochReport& report_;
  std::stop_token stop_;
  bool stop_trial_ = false;
};

}  // namespace

double trial_score(const Metric& metric, const EpochMetrics& m) {
  const std::string_view name = std::string_view(metric.name).substr(4);  // past "val_"
  return metric.score(name == "loss" ? m.validation->loss : m.validation->metric(name));
}

std::vector<std::string> trial_overrides(const SearchSpec& spec, const Task& task) {
  std::vector<std::string> overrides;
  for (std::size_t d = 0; d < spec.space.dims.size(); ++d) {
    overrides.push_back(spec.space.dims[d].path + "=" + task.values.at(d).text);
  }
  Rng seed_rng(spec.seed, Rng::derived(StreamFamily::TrialSeed, static_cast<std::uint64_t>(task.id)));
  overrides.push_back(fmt::format("train.epochs={}", spec.epochs));
  overrides.push_back(fmt::format("train.seed={}", seed_rng.next() >> 33));
  overrides.push_back("train.train_metrics=running");
  return overrides;
}

Outcome train_trial(const SearchSpec& spec, const Registry& registry, const DataSplits& data,
                    const std::vector<std::string>& overrides, TrainObserver& observer) {
  Outcome o;
  try {
    Model model = build_model(spec.base.with(overrides), registry);
    build_network(model, data);
    check_watched(model, data);
    init_from_run(model, nullptr);  // reported once, by the driver, for the base model
    Trainer trainer(model, data, TrainerOptions{false});
    trainer.run(&observer);
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

Outcome ThreadExecutor::run(int, const Task& task, const EpochReport& report, std::stop_token stop) {
  omp_set_num_threads(1);  // one thread per trial: the same numbers for any worker count
  ReportingObserver observer(spec_.metric, report, std::move(stop));
  return train_trial(spec_, registry_, data_, trial_overrides(spec_, task), observer);
}

}  // namespace lamina::detail
