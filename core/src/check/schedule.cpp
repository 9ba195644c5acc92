// `lamina check` of a learning-rate schedule.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <optional>

#include "check/checks.hpp"
#include "lamina/callback.hpp"
#include "lamina/gradcheck.hpp"
#include "lamina/initializer.hpp"
#include "lamina/merge.hpp"
#include "lamina/optimizer.hpp"
#include "lamina/schedule.hpp"

namespace lamina::detail::checks {

// A schedule over 6 epochs of 5 steps with made-up validation metrics (a plateau from epoch 3):
// every factor positive and finite, the same from a fresh instance, and the same after its
// state is saved and loaded into another instance halfway (what --resume does).
void check_schedule(const Registry& registry, const Config& spec, Report& report) {
  const std::int64_t epochs = 6, steps = 5;
  auto loss_at = [](std::int64_t epoch) { return epoch < 3 ? 1.0 / static_cast<double>(epoch) : 0.5; };
  auto run = [&](Schedule& s, std::int64_t from, std::int64_t to, std::vector<double>& out) {
    for (std::int64_t e = from; e <= to; ++e) {
      for (std::int64_t b = 0; b < steps; ++b) out.push_back(s.factor({(e - 1) * steps + b, e, steps, epochs}));
      const MadeUpEpoch m(e, loss_at(e), 0.5, 1.0 - loss_at(e) / 2, 0.5);
      s.end_epoch(m.end);
    }
  };
  std::vector<double> a, b, c;
  auto first = registry.create<Schedule>(spec);
  run(*first, 1, epochs, a);
  const bool valid = std::all_of(a.begin(), a.end(), [](double f) { return f > 0 && std::isfinite(f); });
  report.add(valid, "factors positive and finite",
             fmt::format("{} steps, from {:.3g} to {:.3g}", a.size(), a.front(), a.back()));
  auto second = registry.create<Schedule>(spec);
  run(*second, 1, epochs, b);
  report.add(a == b, "deterministic", "two instances, the same factors");
  const std::string problem = resumed_halfway<Schedule>(registry, spec, run, epochs, c);
  report.add(problem.empty() && a == c, "save/load state resumes",
             problem.empty() ? (a == c ? "the factors after epoch 3 equal those of an uninterrupted run"
                                       : "the factors after a resume at epoch 3 differ")
                             : problem);
}


}  // namespace lamina::detail::checks
