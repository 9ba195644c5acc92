#include "tpe.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "parzen.hpp"
#include "values.hpp"

namespace lamina_samplers {
namespace {

using lamina::Dimension;
using lamina::Trial;
using lamina::TrialStatus;

// Orders trials best first: (tier, epochs reached, score), larger first.
std::tuple<int, std::size_t, double> rank_key(const Trial& t) {
  switch (t.status) {
    case TrialStatus::Ok:
      return {3, 0, t.scores.empty() ? -INFINITY : t.scores.back()};
    case TrialStatus::Pruned:
      return {2, t.scores.size(), t.scores.empty() ? -INFINITY : t.scores.back()};
    default:
      return {1, 0, 0.0};
  }
}

// The working scale of a numeric dimension and back.
struct Scale {
  double lo, hi;
  double to(const Dimension& d, double v) const { return d.type == Dimension::Type::LogUniform ? std::log(v) : v; }
  double from(const Dimension& d, double x) const {
    switch (d.type) {
      case Dimension::Type::LogUniform:
        return std::clamp(std::exp(x), d.lo, d.hi);
      case Dimension::Type::IntUniform:
        return std::clamp(std::round(x), d.lo, d.hi);
      default:
        return std::clamp(x, d.lo, d.hi);
    }
  }
};

Scale scale_of(const Dimension& d) {
  switch (d.type) {
    case Dimension::Type::LogUniform:
      return {std::log(d.lo), std::log(d.hi)};
    case Dimension::Type::IntUniform:
      return {d.lo - 0.5, d.hi + 0.5};
    default:
      return {d.lo, d.hi};
  }
}

// The joint form: every dimension on its working scale (a choice as its index).
std::vector<lamina::Value> propose_jointly(const lamina::SearchSpace& space, const std::vector<const Trial*>& seen,
                                           std::size_t good, std::size_t candidates, lamina::Rng& rng) {
  std::vector<Axis> axes;
  for (const auto& dim : space.dims) {
    if (dim.type == Dimension::Type::Choice) {
      axes.push_back({true, 0, 0, dim.choices.size()});
    } else {
      const Scale s = scale_of(dim);
      axes.push_back({false, s.lo, s.hi, 0});
    }
  }
  std::vector<std::vector<double>> below, above;
  for (std::size_t i = 0; i < seen.size(); ++i) {
    std::vector<double> x;
    for (std::size_t d = 0; d < space.dims.size(); ++d) {
      const Dimension& dim = space.dims[d];
      const double v = seen[i]->values[d].number;
      x.push_back(dim.type == Dimension::Type::Choice
                      ? std::min(std::floor(v), static_cast<double>(dim.choices.size() - 1))
                      : std::clamp(scale_of(dim).to(dim, v), axes[d].lo, axes[d].hi));
    }
    (i < good ? below : above).push_back(x);
  }
  const JointParzen l(axes, below), g(axes, above);
  std::vector<double> best;
  double best_ratio = -INFINITY;
  for (std::size_t k = 0; k < candidates; ++k) {
    const auto x = l.sample(rng);
    const double ratio = l.log_pdf(x) - g.log_pdf(x);
    if (ratio > best_ratio) best_ratio = ratio, best = x;
  }
  std::vector<lamina::Value> out;
  for (std::size_t d = 0; d < space.dims.size(); ++d) {
    const Dimension& dim = space.dims[d];
    out.push_back(value_of(dim, dim.type == Dimension::Type::Choice ? best[d] : scale_of(dim).from(dim, best[d])));
  }
  return out;
}

}  // namespace

std::vector<lamina::Value> TpeSampler::propose(const lamina::SearchSpace& space, std::span<const Trial> history,
                                               std::int64_t, lamina::Rng& rng) {
  std::vector<const Trial*> seen;
  for (const auto& t : history) {
    if (t.status != TrialStatus::Running && t.values.size() == space.dims.size()) seen.push_back(&t);
  }
  std::vector<lamina::Value> out;
  if (static_cast<std::int64_t>(seen.size()) < o_.startup_trials || seen.empty()) {
    for (const auto& d : space.dims) out.push_back(value_at(d, unit(rng)));
    return out;
  }
  std::stable_sort(seen.begin(), seen.end(),
                   [](const Trial* a, const Trial* b) { return rank_key(*a) > rank_key(*b); });
  const auto good = std::clamp<std::size_t>(
      static_cast<std::size_t>(std::ceil(o_.gamma * static_cast<double>(seen.size()))), 1, seen.size());
  const auto candidates = static_cast<std::size_t>(o_.candidates);
  if (o_.multivariate) return propose_jointly(space, seen, good, candidates, rng);

  for (std::size_t d = 0; d < space.dims.size(); ++d) {
    const Dimension& dim = space.dims[d];
    if (dim.type == Dimension::Type::Choice) {
      std::vector<std::size_t> below, above;
      for (std::size_t i = 0; i < seen.size(); ++i) {
        const auto c = std::min(static_cast<std::size_t>(seen[i]->values[d].number), dim.choices.size() - 1);
        (i < good ? below : above).push_back(c);
      }
      const CategoricalEstimator l(below, dim.choices.size()), g(above, dim.choices.size());
      std::size_t best = 0;
      double best_ratio = -INFINITY;
      for (std::size_t k = 0; k < candidates; ++k) {
        const std::size_t c = l.sample(rng);
        const double ratio = l.log_p(c) - g.log_p(c);
        if (ratio > best_ratio) best_ratio = ratio, best = c;
      }
      out.push_back(value_of(dim, static_cast<double>(best)));
      continue;
    }
    const Scale s = scale_of(dim);
    std::vector<double> below, above;
    for (std::size_t i = 0; i < seen.size(); ++i) {
      const double x = std::clamp(s.to(dim, seen[i]->values[d].number), s.lo, s.hi);
      (i < good ? below : above).push_back(x);
    }
    const Parzen l(below, s.lo, s.hi), g(above, s.lo, s.hi);
    double best = 0, best_ratio = -INFINITY;
    for (std::size_t k = 0; k < candidates; ++k) {
      const double x = l.sample(rng);
      const double ratio = l.log_pdf(x) - g.log_pdf(x);
      if (ratio > best_ratio) best_ratio = ratio, best = x;
    }
    out.push_back(value_of(dim, s.from(dim, best)));
  }
  return out;
}

}  // namespace lamina_samplers
