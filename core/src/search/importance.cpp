#include "search/importance.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "search/space_tree.hpp"

namespace lamina::detail {
namespace {

// The working scale: what a sampler draws uniformly (the exponent of a log range).
double working(const Dimension& d, double v) { return d.type == Dimension::Type::LogUniform ? std::log(v) : v; }

// Gaussian kernels with Scott's bandwidth (at least 1/100 of the range, so a cluster of equal
// values is a peak, not a spike), evaluated on `grid`.
std::vector<double> kde(const std::vector<double>& xs, const std::vector<double>& grid, double range) {
  const double n = static_cast<double>(xs.size());
  double mean = 0, var = 0;
  for (double x : xs) mean += x / n;
  for (double x : xs) var += (x - mean) * (x - mean) / std::max(1.0, n - 1);
  const double h = std::max(1.06 * std::sqrt(var) * std::pow(n, -0.2), range / 100);
  std::vector<double> p(grid.size(), 0.0);
  for (std::size_t g = 0; g < grid.size(); ++g) {
    for (double x : xs) {
      const double z = (grid[g] - x) / h;
      p[g] += std::exp(-0.5 * z * z) / (h * std::sqrt(2 * std::numbers::pi) * n);
    }
  }
  return p;
}

}  // namespace

std::vector<double> ped_anova(const SearchSpace& space, const std::vector<Trial>& trials, double quantile,
                              std::size_t min_trials) {
  std::vector<const Trial*> done;
  for (const auto& t : trials) {
    if (t.status == TrialStatus::Ok && !t.scores.empty() && t.values.size() == space.dims.size()) done.push_back(&t);
  }
  if (done.size() < min_trials) return {};
  std::stable_sort(done.begin(), done.end(),
                   [](const Trial* a, const Trial* b) { return a->scores.back() > b->scores.back(); });
  std::vector<double> out;
  for (std::size_t d = 0; d < space.dims.size(); ++d) {
    const Dimension& dim = space.dims[d];
    std::vector<double> all;  // best first, where active
    for (const Trial* t : done) {
      if (!is_inactive(t->values[d])) all.push_back(working(dim, t->values[d].number));
    }
    if (all.size() < 2) {
      out.push_back(0);
      continue;
    }
    const auto top_n = std::max<std::size_t>(2, static_cast<std::size_t>(std::ceil(quantile * all.size())));
    const std::vector<double> top(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(std::min(top_n, all.size())));
    double divergence = 0;
    if (dim.type == Dimension::Type::Choice) {
      // Frequencies smoothed by one count per choice, so an untried choice is not a zero.
      const std::size_t k = dim.choices.size();
      std::vector<double> pt(k, 1.0), pa(k, 1.0);
      for (double x : top) pt[std::min(k - 1, static_cast<std::size_t>(x))] += 1;
      for (double x : all) pa[std::min(k - 1, static_cast<std::size_t>(x))] += 1;
      for (std::size_t c = 0; c < k; ++c) {
        pt[c] /= static_cast<double>(top.size() + k);
        pa[c] /= static_cast<double>(all.size() + k);
        divergence += (pt[c] / pa[c] - 1) * (pt[c] / pa[c] - 1) * pa[c];
      }
    } else {
      const double lo = working(dim, dim.lo), hi = working(dim, dim.hi);
      constexpr std::size_t kGrid = 256;
      std::vector<double> grid(kGrid);
      for (std::size_t g = 0; g < kGrid; ++g) grid[g] = lo + (hi - lo) * (static_cast<double>(g) + 0.5) / kGrid;
      const auto pt = kde(top, grid, hi - lo), pa = kde(all, grid, hi - lo);
      const double dx = (hi - lo) / kGrid;
      for (std::size_t g = 0; g < kGrid; ++g) {
        if (pa[g] > 1e-300) divergence += (pt[g] / pa[g] - 1) * (pt[g] / pa[g] - 1) * pa[g] * dx;
      }
    }
    out.push_back(divergence);
  }
  double sum = 0;
  for (double v : out) sum += v;
  for (double& v : out) v = sum > 0 ? v / sum : 0;
  return out;
}

}  // namespace lamina::detail
