// Core-internal: how much each hyperparameter mattered to a search's score, by PED-ANOVA
// (Watanabe, Bansal & Hutter 2023, "PED-ANOVA: Efficiently Quantifying Hyperparameter
// Importance in Arbitrary Subspaces", IJCAI; Optuna's PedAnovaImportanceEvaluator).
//
// For each dimension, the density of its values among the top `quantile` of the trials, p_top,
// is compared with their density among all trials, p_all, by the Pearson divergence
//   D = integral of (p_top(x) / p_all(x) - 1)^2 p_all(x) dx,
// which the paper shows is the local fANOVA variance of the "score is in the top quantile"
// indicator: a hyperparameter whose good values are spread like all values has D = 0, one whose
// good trials crowd into a corner has a large D. The densities are Gaussian kernel estimates on
// the dimension's working scale (the exponent of a log range), integrated on a grid of 256
// points; a choice's are its smoothed frequencies. No random forest is fitted, so it costs
// microseconds and needs no more trials than a sampler does. Importances are normalized to sum
// to 1 (all 0 when every D is).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "lamina/search_space.hpp"
#include "lamina/trial.hpp"

namespace lamina::detail {

// The importance of each dimension of `space` to the final scores (higher is better) of the
// completed trials in `trials`, in the space's order; a dimension of a conditional space is
// judged on the trials where it was active. Empty with fewer than `min_trials` completed trials.
std::vector<double> ped_anova(const SearchSpace& space, const std::vector<Trial>& trials, double quantile = 0.1,
                              std::size_t min_trials = 10);

}  // namespace lamina::detail
