#include "parzen.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "values.hpp"

namespace lamina_samplers {
namespace {

double normal_cdf(double t) { return 0.5 * std::erfc(-t / std::numbers::sqrt2); }

// One standard normal draw (Box-Muller on two 53-bit uniforms; 1 - u is in (0, 1]).
double standard_normal(lamina::Rng& rng) {
  const double u1 = 1.0 - unit(rng), u2 = unit(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

// Each observation's width: the larger distance to its neighbours in sorted order (the
// interval's ends at the edges), clipped to [range / min(100, n + 1), range]; in input order.
std::vector<double> widths(const std::vector<double>& xs, double lo, double hi) {
  const double range = hi - lo;
  std::vector<std::size_t> order(xs.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return xs[a] < xs[b]; });
  const double min_sigma = range / std::min(100.0, static_cast<double>(xs.size()) + 1.0);
  std::vector<double> sigma(xs.size());
  for (std::size_t k = 0; k < order.size(); ++k) {
    const double m = xs[order[k]];
    const double left = k > 0 ? xs[order[k - 1]] : lo;
    const double right = k + 1 < order.size() ? xs[order[k + 1]] : hi;
    sigma[order[k]] = std::clamp(std::max(m - left, right - m), min_sigma, range);
  }
  return sigma;
}

double log_mass(double mu, double sigma, double lo, double hi) {
  return std::log(std::max(normal_cdf((hi - mu) / sigma) - normal_cdf((lo - mu) / sigma), 1e-300));
}

double log_gauss(double x, double mu, double sigma, double log_mass) {
  const double z = (x - mu) / sigma;
  return -0.5 * z * z - std::log(sigma * std::sqrt(2.0 * std::numbers::pi)) - log_mass;
}

// Rejection from a truncated Gaussian: its mass inside is at least ~0.38 of a width-sized
// interval, so 64 tries all failing is practically impossible; the clamp keeps the result
// inside even then.
double sample_truncated(double mu, double sigma, double lo, double hi, lamina::Rng& rng) {
  double x = mu;
  for (int tries = 0; tries < 64; ++tries) {
    x = mu + sigma * standard_normal(rng);
    if (x >= lo && x <= hi) return x;
  }
  return std::clamp(x, lo, hi);
}

// log of the mean of exp(terms)
double log_mean_exp(const std::vector<double>& terms) {
  const double top = *std::max_element(terms.begin(), terms.end());
  double sum = 0;
  for (double t : terms) sum += std::exp(t - top);
  return top + std::log(sum) - std::log(static_cast<double>(terms.size()));
}

}  // namespace

Parzen::Parzen(std::vector<double> observations, double lo, double hi) : lo_(lo), hi_(hi) {
  mu_ = observations;
  sigma_ = widths(observations, lo, hi);
  mu_.push_back(lo + (hi - lo) / 2);  // the prior
  sigma_.push_back(hi - lo);
  for (std::size_t i = 0; i < mu_.size(); ++i) log_mass_.push_back(log_mass(mu_[i], sigma_[i], lo, hi));
}

double Parzen::sample(lamina::Rng& rng) const {
  const std::size_t k = rng.below(mu_.size());
  return sample_truncated(mu_[k], sigma_[k], lo_, hi_, rng);
}

double Parzen::log_pdf(double x) const {
  std::vector<double> terms;
  for (std::size_t i = 0; i < mu_.size(); ++i) terms.push_back(log_gauss(x, mu_[i], sigma_[i], log_mass_[i]));
  return log_mean_exp(terms);
}

JointParzen::JointParzen(std::vector<Axis> axes, const std::vector<std::vector<double>>& observations)
    : axes_(std::move(axes)) {
  const std::size_t n = observations.size(), dims = axes_.size();
  mu_.assign(n + 1, std::vector<double>(dims));
  sigma_ = log_mass_ = mu_;
  for (std::size_t d = 0; d < dims; ++d) {
    const Axis& a = axes_[d];
    std::vector<double> xs;
    for (const auto& o : observations) xs.push_back(o[d]);
    const std::vector<double> w = a.categorical ? std::vector<double>(n, 0.0) : widths(xs, a.lo, a.hi);
    for (std::size_t i = 0; i <= n; ++i) {
      const bool prior = i == n;
      mu_[i][d] = prior ? (a.categorical ? -1.0 : a.lo + (a.hi - a.lo) / 2) : xs[i];
      sigma_[i][d] = prior ? a.hi - a.lo : w[i];
      if (!a.categorical) log_mass_[i][d] = log_mass(mu_[i][d], sigma_[i][d], a.lo, a.hi);
    }
  }
}

double JointParzen::log_kernel(std::size_t i, std::size_t d, double x) const {
  const Axis& a = axes_[d];
  if (!a.categorical) return log_gauss(x, mu_[i][d], sigma_[i][d], log_mass_[i][d]);
  const double k = static_cast<double>(a.choices);
  if (mu_[i][d] < 0) return -std::log(k);  // the prior: uniform
  return std::log((1.0 / k + (x == mu_[i][d] ? 1.0 : 0.0)) / 2.0);
}

std::vector<double> JointParzen::sample(lamina::Rng& rng) const {
  const std::size_t i = rng.below(mu_.size());
  std::vector<double> x(axes_.size());
  for (std::size_t d = 0; d < axes_.size(); ++d) {
    const Axis& a = axes_[d];
    if (!a.categorical) {
      x[d] = sample_truncated(mu_[i][d], sigma_[i][d], a.lo, a.hi, rng);
    } else if (mu_[i][d] < 0 || unit(rng) < 0.5) {
      // the prior, or the uniform half of the smoothed one-hot
      x[d] = static_cast<double>(rng.below(a.choices));
    } else {
      x[d] = mu_[i][d];
    }
  }
  return x;
}

double JointParzen::log_pdf(const std::vector<double>& x) const {
  std::vector<double> terms;
  for (std::size_t i = 0; i < mu_.size(); ++i) {
    double t = 0;
    for (std::size_t d = 0; d < axes_.size(); ++d) t += log_kernel(i, d, x[d]);
    terms.push_back(t);
  }
  return log_mean_exp(terms);
}

CategoricalEstimator::CategoricalEstimator(const std::vector<std::size_t>& observations, std::size_t choices)
    : p_(choices, 1.0) {
  for (auto c : observations) p_.at(c) += 1.0;
  const double total = static_cast<double>(choices + observations.size());
  for (auto& p : p_) p /= total;
}

std::size_t CategoricalEstimator::sample(lamina::Rng& rng) const {
  double u = unit(rng);
  for (std::size_t i = 0; i < p_.size(); ++i) {
    if (u < p_[i]) return i;
    u -= p_[i];
  }
  return p_.size() - 1;
}

double CategoricalEstimator::log_p(std::size_t choice) const { return std::log(p_.at(choice)); }

}  // namespace lamina_samplers
