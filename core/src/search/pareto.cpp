#include "search/pareto.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace lamina::detail {

bool dominates(const std::vector<double>& a, const std::vector<double>& b) {
  bool better = false;
  for (std::size_t m = 0; m < a.size(); ++m) {
    if (a[m] < b[m]) return false;
    better |= a[m] > b[m];
  }
  return better;
}

std::vector<int> pareto_ranks(const std::vector<std::vector<double>>& points) {
  const std::size_t n = points.size();
  std::vector<int> rank(n, 0);
  std::vector<std::size_t> dominated_by(n, 0);  // how many points dominate i
  std::vector<std::vector<std::size_t>> dominated(n);  // the points i dominates
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      if (dominates(points[i], points[j])) {
        dominated[i].push_back(j);
        ++dominated_by[j];
      } else if (dominates(points[j], points[i])) {
        dominated[j].push_back(i);
        ++dominated_by[i];
      }
    }
  }
  std::vector<std::size_t> front;
  for (std::size_t i = 0; i < n; ++i) {
    if (dominated_by[i] == 0) front.push_back(i);
  }
  for (int r = 1; !front.empty(); ++r) {
    std::vector<std::size_t> next;
    for (std::size_t i : front) {
      rank[i] = r;
      for (std::size_t j : dominated[i]) {
        if (--dominated_by[j] == 0) next.push_back(j);
      }
    }
    front = std::move(next);
  }
  return rank;
}

std::vector<double> crowding_distances(const std::vector<std::vector<double>>& points, const std::vector<int>& ranks) {
  const std::size_t n = points.size();
  std::vector<double> distance(n, 0.0);
  if (n == 0) return distance;
  const std::size_t objectives = points[0].size();
  const int fronts = *std::max_element(ranks.begin(), ranks.end());
  for (int r = 1; r <= fronts; ++r) {
    std::vector<std::size_t> members;
    for (std::size_t i = 0; i < n; ++i) {
      if (ranks[i] == r) members.push_back(i);
    }
    for (std::size_t m = 0; m < objectives; ++m) {
      std::stable_sort(members.begin(), members.end(),
                       [&](std::size_t a, std::size_t b) { return points[a][m] < points[b][m]; });
      const double span = points[members.back()][m] - points[members.front()][m];
      distance[members.front()] = distance[members.back()] = std::numeric_limits<double>::infinity();
      if (!(span > 0)) continue;  // every member equal in this objective: it tells them nothing apart
      for (std::size_t k = 1; k + 1 < members.size(); ++k) {
        distance[members[k]] += (points[members[k + 1]][m] - points[members[k - 1]][m]) / span;
      }
    }
  }
  return distance;
}

std::vector<std::size_t> sampler_order(const std::vector<std::vector<double>>& points) {
  const auto ranks = pareto_ranks(points);
  const auto distance = crowding_distances(points, ranks);
  std::vector<std::size_t> order(points.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (ranks[a] != ranks[b]) return ranks[a] < ranks[b];
    return distance[a] > distance[b];
  });
  return order;
}

}  // namespace lamina::detail
