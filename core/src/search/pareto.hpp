// Core-internal: Pareto dominance over a search's objectives (`objectives:`), every objective
// as a score, higher is better (a minimized one negated, as Metric::score does).
//
// A point dominates another when it is at least as good in every objective and better in one.
// Non-dominated sorting (Deb, Pratap, Agarwal & Meyarivan 2002, "A fast and elitist
// multiobjective genetic algorithm: NSGA-II") gives each point its front: 1 for the points no
// other dominates, 2 for those only front 1 dominates, and so on.
#pragma once

#include <cstddef>
#include <vector>

namespace lamina::detail {

// Whether `a` dominates `b` (same length).
bool dominates(const std::vector<double>& a, const std::vector<double>& b);

// Each point's front, from 1. O(M n^2): searches hold hundreds of trials, not millions.
std::vector<int> pareto_ranks(const std::vector<std::vector<double>>& points);

// NSGA-II's crowding distance of each point within its front: the sum over objectives of the
// gap between its two neighbours, relative to the front's span; a front's extremes (and the
// points of a front of one or two) are infinite. A larger distance is a less crowded point.
std::vector<double> crowding_distances(const std::vector<std::vector<double>>& points, const std::vector<int>& ranks);

// The points' indices in the order a sampler's split uses: by front, then by crowding distance
// (larger first, so a front's extremes and sparse regions are kept before its crowded middle,
// as NSGA-II's selection does), then by index.
std::vector<std::size_t> sampler_order(const std::vector<std::vector<double>>& points);

}  // namespace lamina::detail
