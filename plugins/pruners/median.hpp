// The median stopping rule (Golovin et al. 2017, "Google Vizier"; Optuna's MedianPruner):
// after an epoch past `warmup_epochs`, a trial stops if its best score so far is below the
// median of the earlier trials' scores at the same epoch — once at least `min_trials` earlier
// trials reached that epoch.
#pragma once

#include <lamina/pruner.hpp>

namespace lamina_pruners {

class Median final : public lamina::Pruner {
 public:
  Median(std::int64_t warmup_epochs, std::int64_t min_trials) : warmup_(warmup_epochs), min_trials_(min_trials) {}
  bool decides_at(std::int64_t epoch) const override { return epoch > warmup_; }
  bool should_prune(const lamina::Trial& trial, std::span<const lamina::Trial> earlier) override;

 private:
  std::int64_t warmup_, min_trials_;
};

}  // namespace lamina_pruners
