#include "median.hpp"

#include <algorithm>
#include <vector>

namespace lamina_pruners {

bool Median::should_prune(const lamina::Trial& trial, std::span<const lamina::Trial> earlier) {
  const auto e = static_cast<std::int64_t>(trial.scores.size());
  if (e == 0 || !decides_at(e)) return false;
  std::vector<double> at_epoch;
  for (const auto& t : earlier) {
    if (static_cast<std::int64_t>(t.scores.size()) >= e) at_epoch.push_back(t.scores[static_cast<std::size_t>(e - 1)]);
  }
  if (static_cast<std::int64_t>(at_epoch.size()) < min_trials_ || at_epoch.empty()) return false;
  std::sort(at_epoch.begin(), at_epoch.end());
  const std::size_t n = at_epoch.size();
  const double median = n % 2 ? at_epoch[n / 2] : (at_epoch[n / 2 - 1] + at_epoch[n / 2]) / 2;
  const double best = *std::max_element(trial.scores.begin(), trial.scores.end());
  return best < median;
}

}  // namespace lamina_pruners
