// A Parzen estimator on an interval: one Gaussian per observation, truncated to [lo, hi], plus
// a prior Gaussian at the middle as wide as the interval, all weighted equally. Each
// observation's width is the larger distance to its neighbours (the interval's ends at the
// edges), clipped to [(hi - lo) / min(100, n + 1), hi - lo] — Bergstra et al. 2011, as
// Hyperopt and Optuna build it.
#pragma once

#include <lamina/rng.hpp>
#include <vector>

namespace lamina_samplers {

class Parzen {
 public:
  Parzen(std::vector<double> observations, double lo, double hi);
  double sample(lamina::Rng& rng) const;  // inside [lo, hi]
  double log_pdf(double x) const;         // of the truncated mixture

 private:
  double lo_, hi_;
  std::vector<double> mu_, sigma_, log_mass_;  // log_mass_: the log of each Gaussian's mass inside [lo, hi]
};

// Smoothed counts over n choices: weight count + 1 each (the prior), normalized.
class CategoricalEstimator {
 public:
  CategoricalEstimator(const std::vector<std::size_t>& observations, std::size_t choices);
  std::size_t sample(lamina::Rng& rng) const;
  double log_p(std::size_t choice) const;

 private:
  std::vector<double> p_;
};

}  // namespace lamina_samplers
