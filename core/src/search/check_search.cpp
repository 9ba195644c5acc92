#include "search/check_search.hpp"

#include <cmath>
#include <map>

#include "lamina/pruner.hpp"
#include "lamina/rng.hpp"
#include "lamina/sampler.hpp"
#include "search/scheduler.hpp"

namespace lamina::detail {
namespace {

SearchSpace check_space() {
  SearchSpace s;
  s.dims.push_back({"x", Dimension::Type::Uniform, -1.0, 2.0, {}});
  s.dims.push_back({"lr", Dimension::Type::LogUniform, 1e-5, 1e-1, {}});
  s.dims.push_back({"units", Dimension::Type::IntUniform, 1, 7, {}});
  s.dims.push_back({"act", Dimension::Type::Choice, 0, 0, {"relu", "tanh", "{type: sigmoid}"}});
  return s;
}

// A smooth objective with its optimum inside: x = 0.5, lr = 1e-3, units = 5, act = tanh.
double objective(const std::vector<Value>& v) {
  const double l = std::log10(v[1].number) + 3;
  return 1.0 - 0.1 * (v[0].number - 0.5) * (v[0].number - 0.5) - 0.05 * l * l - 0.02 * std::abs(v[2].number - 5) -
         (v[3].number == 1 ? 0.0 : 0.1);
}

bool same_values(const std::vector<Value>& a, const std::vector<Value>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].text != b[i].text || a[i].number != b[i].number) return false;
  }
  return true;
}

std::vector<Value> propose(Sampler& s, const SearchSpace& space, std::span<const Trial> history, std::int64_t id,
                           std::uint64_t seed) {
  Rng rng(seed, Rng::derived(StreamFamily::TrialProposal, static_cast<std::uint64_t>(id)));
  return s.propose(space, history, id, rng);
}

}  // namespace

static void check_sampler_or_throw(const Registry& registry, const Config& spec, Report& report) {
  const SearchSpace space = check_space();
  const std::int64_t n = 60;
  const std::uint64_t seed = 7;
  auto sampler = registry.create<Sampler>(spec);
  std::vector<Trial> trials;
  std::string outside_why;
  double best = -INFINITY, best_first_half = -INFINITY;
  for (std::int64_t id = 0; id < n; ++id) {
    Trial t;
    t.id = id;
    t.values = propose(*sampler, space, trials, id, seed);
    if (const auto why = outside(t.values, space); !why.empty() && outside_why.empty()) {
      outside_why = fmt::format("trial {}: {}", id, why);
    }
    if (!outside_why.empty()) break;
    // Some trials end otherwise, as in a real search: every 9th diverges, every 7th is pruned.
    const double f = objective(t.values);
    t.status = id % 9 == 8 ? TrialStatus::Diverged : id % 7 == 6 ? TrialStatus::Pruned : TrialStatus::Ok;
    if (t.status != TrialStatus::Diverged) t.scores = {f / 2, f};
    if (t.status == TrialStatus::Pruned) t.scores.pop_back();
    if (t.status == TrialStatus::Ok) {
      best = std::max(best, f);
      if (id < n / 2) best_first_half = std::max(best_first_half, f);
    }
    trials.push_back(std::move(t));
  }
  report.add(outside_why.empty(), "proposals inside the space",
             outside_why.empty() ? fmt::format("{} trials over uniform, log_uniform, int_uniform and choice", n)
                                 : outside_why);
  if (!outside_why.empty()) return;

  auto fresh = registry.create<Sampler>(spec);
  std::string differs;
  for (std::int64_t id = 0; id < n && differs.empty(); ++id) {
    const std::span<const Trial> history(trials.data(), static_cast<std::size_t>(id));
    if (!same_values(propose(*fresh, space, history, id, seed), trials[static_cast<std::size_t>(id)].values)) {
      differs = fmt::format("trial {} differs", id);
    }
  }
  report.add(
      differs.empty(), "deterministic",
      differs.empty() ? "a fresh instance (a resume) proposes the same values for the same trials seen" : differs);
  if (!sampler->uses_history()) {
    bool independent = true;
    for (std::int64_t id = 0; id < n; ++id) {
      independent =
          independent && same_values(propose(*fresh, space, {}, id, seed), trials[static_cast<std::size_t>(id)].values);
    }
    report.add(independent, "ignores history as it says", "uses_history() is false: no trial seen changes a proposal");
  }
  report.note(fmt::format("objective (best 1): best of the first {} trials {:.4f}, of all {} {:.4f}", n / 2,
                          best_first_half, n, best));
}

static void check_pruner_or_throw(const Registry& registry, const Config& spec, Report& report) {
  const std::int64_t trials = 30, epochs = 9;
  // Synthetic learning curves: each trial approaches its own plateau at its own speed.
  std::vector<std::vector<double>> curves;
  Rng rng(11, Rng::Stream::User);
  for (std::int64_t t = 0; t < trials; ++t) {
    const double plateau = 0.5 + 0.45 * rng.uniform(), speed = 1.0 + 3.0 * rng.uniform();
    std::vector<double> c;
    for (std::int64_t e = 1; e <= epochs; ++e) c.push_back(plateau * (1 - std::exp(-static_cast<double>(e) / speed)));
    curves.push_back(c);
  }
  // Runs the trials from `from` on as a serial search does, the earlier ones as `done` left
  // them; returns every (trial, epoch) decision.
  std::string off_rung;
  auto simulate = [&](Pruner& p, std::vector<Trial>& done, std::int64_t from) {
    std::map<std::pair<std::int64_t, std::int64_t>, bool> decisions;
    done.resize(static_cast<std::size_t>(from));
    for (std::int64_t id = from; id < trials; ++id) {
      Trial t;
      t.id = id;
      for (std::int64_t e = 1; e <= epochs; ++e) {
        t.scores.push_back(curves[static_cast<std::size_t>(id)][static_cast<std::size_t>(e - 1)]);
        const bool asked = p.decides_at(e);
        const bool stop = asked && p.should_prune(t, done);
        if (!asked && p.should_prune(t, done) && off_rung.empty()) {
          off_rung = fmt::format("trial {} epoch {}", id, e);
        }
        decisions[{id, e}] = stop;
        if (stop && e < epochs) {
          t.status = TrialStatus::Pruned;
          break;
        }
      }
      if (t.status == TrialStatus::Running) t.status = TrialStatus::Ok;
      done.push_back(t);
    }
    return decisions;
  };
  auto first = registry.create<Pruner>(spec);
  std::vector<Trial> whole;
  const auto decisions = simulate(*first, whole, 0);
  std::int64_t pruned = 0, epochs_run = 0;
  for (const auto& t : whole) {
    pruned += t.status == TrialStatus::Pruned;
    epochs_run += static_cast<std::int64_t>(t.scores.size());
  }
  report.add(off_rung.empty(), "decides only where it says",
             off_rung.empty() ? "should_prune() is false wherever decides_at() is"
                              : "would stop at " + off_rung + ", where decides_at() is false");
  bool stable = true;
  std::string where;
  for (std::int64_t from : {std::int64_t{0}, trials / 3, trials / 2}) {
    auto again = registry.create<Pruner>(spec);
    std::vector<Trial> done = whole;
    const auto replay = simulate(*again, done, from);
    for (const auto& [key, stop] : replay) {
      if (decisions.at(key) != stop && stable) {
        stable = false;
        where = fmt::format("resumed at trial {}: trial {} epoch {} decided otherwise", from, key.first, key.second);
      }
    }
  }
  report.add(stable, "stable under resume",
             stable ? "fresh instances resumed at trials 0, 10 and 15 make the same decisions" : where);
  // A decision must not depend on trials after it: judge each trial again with every other
  // trial of the search passed as earlier ones would leak the future; with the earlier ones
  // only, it must repeat.
  auto third = registry.create<Pruner>(spec);
  bool repeats = true;
  for (const auto& t : whole) {
    const std::span<const Trial> earlier(whole.data(), static_cast<std::size_t>(t.id));
    Trial partial = t;
    for (std::size_t e = 1; e <= t.scores.size() && repeats; ++e) {
      partial.scores.assign(t.scores.begin(), t.scores.begin() + static_cast<std::ptrdiff_t>(e));
      const bool stop = third->decides_at(static_cast<std::int64_t>(e)) && third->should_prune(partial, earlier);
      repeats = stop == decisions.at({t.id, static_cast<std::int64_t>(e)});
    }
  }
  report.add(repeats, "asked again, answers again", "each decision repeated from the same trial and earlier trials");
  report.note(fmt::format("{} of {} synthetic trials stopped early; {} of {} trial-epochs run", pruned, trials,
                          epochs_run, trials * epochs));
}

void check_sampler(const Registry& registry, const Config& spec, Report& report) {
  try {
    check_sampler_or_throw(registry, spec, report);
  } catch (const std::exception& e) {
    report.add(false, "runs without throwing", e.what());
  }
}

void check_pruner(const Registry& registry, const Config& spec, Report& report) {
  try {
    check_pruner_or_throw(registry, spec, report);
  } catch (const std::exception& e) {
    report.add(false, "runs without throwing", e.what());
  }
}

}  // namespace lamina::detail
