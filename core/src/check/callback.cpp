// `lamina check` of a training callback.
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

// A callback through 6 epochs of 3 steps with made-up metrics (improving, then a plateau) and
// gradients of a fixed pattern: gradients stay finite, two instances act alike, and the
// actions after its state is saved and loaded halfway equal an uninterrupted run's.
void check_callback(const Registry& registry, const Config& spec, Report& report) {
  const std::int64_t epochs = 6, steps = 3;
  struct Trace {
    std::vector<float> grads;
    std::vector<std::string> actions;
  };
  auto run = [&](Callback& cb, std::int64_t from, std::int64_t to, Trace& t) {
    Param w{"layers.0.W", Tensor(Shape{4, 3}), Tensor(Shape{4, 3}), true};
    Param* list[] = {&w};
    for (std::int64_t e = from; e <= to; ++e) {
      for (std::int64_t b = 0; b < steps; ++b) {
        for (std::int64_t i = 0; i < w.grad.size(); ++i) w.grad[i] = static_cast<float>((i % 5) - 2) * 3.0f;
        const TrainStep at{(e - 1) * steps + b, e, steps, epochs};
        cb.before_update(list, at);
        t.grads.insert(t.grads.end(), w.grad.data(), w.grad.data() + w.grad.size());
        cb.end_batch(at, 1.0f);
      }
      const double loss = e < 3 ? 1.0 / static_cast<double>(e) : 0.5;
      const MadeUpEpoch m(e, loss, 1 - loss / 2, 1 - loss / 2, 1 - loss / 2);
      const CallbackAction a = cb.end_epoch(m.end);
      t.actions.push_back(fmt::format("{}{}{}", a.stop ? "stop " : "", a.best ? "best " : "", a.reason));
    }
  };
  Trace a, b, c;
  auto first = registry.create<Callback>(spec);
  run(*first, 1, epochs, a);
  const bool finite_grads = std::all_of(a.grads.begin(), a.grads.end(), [](float g) { return std::isfinite(g); });
  std::size_t acted = 0;
  for (const auto& x : a.actions) acted += !x.empty();
  report.add(finite_grads, "gradients finite after it",
             fmt::format("{} steps; acted at {} of {} epoch ends", epochs * steps, acted, epochs));
  auto second = registry.create<Callback>(spec);
  run(*second, 1, epochs, b);
  report.add(a.grads == b.grads && a.actions == b.actions, "deterministic", "two instances, the same effects");
  const std::string problem = resumed_halfway<Callback>(registry, spec, run, epochs, c);
  const bool same_after = problem.empty() && a.grads == c.grads && a.actions == c.actions;
  report.add(same_after, "save/load state resumes",
             !problem.empty() ? problem
             : same_after     ? "its effects after epoch 3 equal those of an uninterrupted run"
                              : "its effects after a resume at epoch 3 differ");
}


}  // namespace lamina::detail::checks
