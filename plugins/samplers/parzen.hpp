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

// One axis of a joint estimator: numeric (on its working interval) or a choice among n.
struct Axis {
  bool categorical = false;
  double lo = 0, hi = 1;
  std::size_t choices = 0;
};

// The multivariate form (Falkner, Klein & Hutter 2018, "BOHB"; Optuna's multivariate TPE): one
// kernel per observation over every axis at once — the product of the truncated Gaussians above
// (same widths, per axis) and, on a choice, its smoothed one-hot (1/n + [c = observed]) / 2 —
// plus a prior component (the interval's middle and width, uniform choices), equally weighted.
// Values that go well together (a learning rate and a batch size) are proposed together.
class JointParzen {
 public:
  // observations[i][d]: observation i's value on axis d (its working scale, or a choice index).
  JointParzen(std::vector<Axis> axes, const std::vector<std::vector<double>>& observations);
  std::vector<double> sample(lamina::Rng& rng) const;
  double log_pdf(const std::vector<double>& x) const;

 private:
  double log_kernel(std::size_t component, std::size_t axis, double x) const;
  std::vector<Axis> axes_;
  std::vector<std::vector<double>> mu_, sigma_, log_mass_;  // [component][axis]
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
