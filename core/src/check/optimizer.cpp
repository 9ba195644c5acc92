// `lamina check` of an optimizer: steps on a known quadratic, state saved and reloaded.
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

namespace {

// f(w) = sum_j 0.5 (j + 1) w_j^2 over a parameter of 4 elements, and its gradient.
double quadratic(const Param& p) {
  double s = 0;
  for (std::int64_t j = 0; j < p.value.size(); ++j) s += 0.5 * static_cast<double>(j + 1) * p.value[j] * p.value[j];
  return s;
}
void quadratic_grad(Param& p) {
  for (std::int64_t j = 0; j < p.value.size(); ++j) p.grad[j] = static_cast<float>(j + 1) * p.value[j];
}

Param make_param(const std::string& name, std::int64_t n, float start) {
  Param p{name, Tensor(Shape{n}), Tensor(Shape{n}), true};
  for (std::int64_t j = 0; j < n; ++j) p.value[j] = start + 0.25f * static_cast<float>(j % 3);
  return p;
}

}  // namespace

void check_optimizer(const Registry& registry, const Config& spec, Report& report) {
  // Descent, judged against the optimizer's own step: whatever its learning rate, the distance
  // it travelled must buy at least half the decrease that the same distance straight down the
  // starting gradient buys. A tiny step passes if it points downhill (a sign-based optimizer at
  // lr 1e-4 used to "fail" an absolute threshold that SGD at the same lr passed); a step uphill,
  // no step at all, or a divergence fails.
  {
    auto opt = registry.create<Optimizer>(spec);
    Param p{"layers.0.W", Tensor(Shape{4}), Tensor(Shape{4}), true};
    p.value.fill(1.0f);
    Param* list[] = {&p};
    const Tensor start = p.value.clone();
    quadratic_grad(p);
    const Tensor g0 = p.grad.clone();
    const double f0 = quadratic(p);
    for (int step = 0; step < 300; ++step) {
      quadratic_grad(p);
      opt->step(list);
    }
    double moved = 0, gnorm = 0;
    for (int j = 0; j < 4; ++j) {
      moved += (p.value[j] - start[j]) * (p.value[j] - start[j]);
      gnorm += g0[j] * g0[j];
    }
    moved = std::sqrt(moved);
    gnorm = std::sqrt(gnorm);
    Param straight{"s", start.clone(), Tensor(Shape{4}), true};
    for (int j = 0; j < 4; ++j) straight.value[j] -= static_cast<float>(moved * g0[j] / gnorm);
    const double f1 = quadratic(p), best = f0 - quadratic(straight);
    const bool ok = finite(p.value) && moved > 0 && f1 < f0 && f0 - f1 >= 0.5 * best;
    report.add(ok, "descends on a quadratic",
               fmt::format("f from {:.3f} to {:.3g} in 300 steps, travelling {:.3g} (straight down: {:.3g})", f0, f1,
                           moved, quadratic(straight)));
  }

  // Per-tensor rates (lamina/param.hpp). lr_mult scales the step, not the gradient: fed the
  // same gradients, a tensor at lr_mult 0.5 travels half as far as one at 1 in every step, for
  // stateful optimizers too (Adam's normalisation cancels a scaled gradient, not a scaled step).
  // decay_mult 0 on a tensor marked for decay must make it move as a tensor not marked does
  // (an optimizer with decoupled weight decay honours it; the others pass trivially).
  {
    auto full = registry.create<Optimizer>(spec), half = registry.create<Optimizer>(spec);
    // From zero and without decay, so that each step's size is read without the rounding of a
    // value far larger than it (a step of 1e-6 on a weight of 1 keeps two digits).
    Param a{"layers.0.W", Tensor(Shape{4}), Tensor(Shape{4}), false}, b{"layers.0.W", Tensor(Shape{4}), Tensor(Shape{4}), false};
    b.lr_mult = 0.5f;
    Param* la[] = {&a};
    Param* lb[] = {&b};
    double worst = 0;
    for (int step = 0; step < 5; ++step) {
      const Tensor a0 = a.value.clone(), b0 = b.value.clone();
      for (std::int64_t j = 0; j < 4; ++j) {
        a.grad[j] = b.grad[j] = 0.5f + 0.25f * static_cast<float>(j) - 0.1f * static_cast<float>(step);
      }
      full->step(la);
      half->step(lb);
      for (std::int64_t j = 0; j < 4; ++j) {
        const double da = a.value[j] - a0[j], db = b.value[j] - b0[j];
        const double err = std::abs(db - 0.5 * da) / std::max(std::abs(0.5 * da), 1e-12);
        worst = std::max(worst, std::isfinite(err) ? err : 1e300);
      }
    }
    report.add(worst <= 1e-3, "honours lr_mult",
               fmt::format("5 steps at lr_mult 0.5 against 1 on the same gradients: step ratio off 0.5 by at most "
                           "{:.2g} (relative; 1e-3 allowed)",
                           worst));

    auto decayed = registry.create<Optimizer>(spec), plain = registry.create<Optimizer>(spec);
    Param d = make_param("layers.0.W", 4, 1.0f), q = make_param("layers.0.W", 4, 1.0f);
    d.decay_mult = 0.0f;
    q.decay = false;
    Param* ld[] = {&d};
    Param* lq[] = {&q};
    for (int step = 0; step < 5; ++step) {
      quadratic_grad(d);
      quadratic_grad(q);
      decayed->step(ld);
      plain->step(lq);
    }
    report.add(same(d.value, q.value), "honours decay_mult",
               same(d.value, q.value)
                   ? "a tensor marked for decay at decay_mult 0 moved as an undecayed one over 5 steps"
                   : "a tensor marked for decay at decay_mult 0 moved differently from an undecayed one: its "
                     "weight decay ignores decay_mult");
  }

  // Resume: the state saved after some steps, loaded into a fresh instance, gives the same next
  // steps bit for bit — with the parameters handed over in another order, as other objects
  // (state follows names, not positions or addresses).
  {
    auto a = registry.create<Optimizer>(spec);
    Param wa = make_param("layers.0.W", 4, 1.0f), ba = make_param("layers.0.b", 3, -0.5f);
    Param* la[] = {&wa, &ba};
    for (int step = 0; step < 7; ++step) {
      quadratic_grad(wa);
      quadratic_grad(ba);
      a->step(la);
    }
    std::vector<Buffer> saved;
    a->save_state(saved);
    auto b = registry.create<Optimizer>(spec);
    std::string problem;
    try {
      b->load_state(saved);
    } catch (const Error& e) {
      problem = fmt::format("load_state refused its own save_state: {}", e.what());
    }
    Param wb{wa.name, wa.value.clone(), Tensor(wa.grad.shape()), true};
    Param bb{ba.name, ba.value.clone(), Tensor(ba.grad.shape()), true};
    Param* lb[] = {&bb, &wb};  // the other order
    for (int step = 0; step < 5 && problem.empty(); ++step) {
      for (Param* q : {&wa, &ba, &wb, &bb}) quadratic_grad(*q);
      a->step(la);
      b->step(lb);
    }
    const bool equal = problem.empty() && same(wa.value, wb.value) && same(ba.value, bb.value);
    if (problem.empty() && !equal) problem = "the next 5 steps differ";
    report.add(equal, "save/load state resumes",
               problem.empty() ? fmt::format("{} state tensors; the next 5 steps equal, parameters in another order",
                                             saved.size())
                               : problem);
  }

  // A state tensor the optimizer cannot know (a checkpoint of another optimizer or version)
  // must be refused, not silently ignored.
  {
    auto opt = registry.create<Optimizer>(spec);
    std::vector<Buffer> bogus;
    bogus.push_back({"layers.0.W.no_such_slot_of_any_optimizer", Tensor(Shape{4})});
    std::string refused;
    try {
      opt->load_state(bogus);
    } catch (const InputError& e) {
      refused = e.what();
    }
    report.add(!refused.empty(), "refuses unknown state",
               refused.empty() ? "load_state accepted 'layers.0.W.no_such_slot_of_any_optimizer'"
                               : fmt::format("load_state: {}", refused));
  }
}


}  // namespace lamina::detail::checks
