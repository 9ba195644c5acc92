#include "asha.hpp"

#include <algorithm>

namespace lamina_pruners {

bool Asha::decides_at(std::int64_t epoch) const {
  if (epoch < min_epochs_ || epoch % min_epochs_ != 0) return false;
  for (std::int64_t k = epoch / min_epochs_; k > 1; k /= reduction_) {
    if (k % reduction_ != 0) return false;
  }
  return true;
}

bool Asha::should_prune(const lamina::Trial& trial, std::span<const lamina::Trial> earlier) {
  const auto e = static_cast<std::int64_t>(trial.scores.size());
  if (e == 0 || !decides_at(e)) return false;
  const double mine = trial.scores.back();
  std::int64_t n = 1, better = 0;
  for (const auto& t : earlier) {
    if (static_cast<std::int64_t>(t.scores.size()) < e) continue;
    ++n;
    better += t.scores[static_cast<std::size_t>(e - 1)] >= mine;
  }
  return better >= std::max<std::int64_t>(1, n / reduction_);
}

}  // namespace lamina_pruners
