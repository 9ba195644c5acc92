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

}  // namespace

Parzen::Parzen(std::vector<double> observations, double lo, double hi) : lo_(lo), hi_(hi) {
  const double range = hi - lo;
  std::sort(observations.begin(), observations.end());
  const double min_sigma = range / std::min(100.0, static_cast<double>(observations.size()) + 1.0);
  for (std::size_t i = 0; i < observations.size(); ++i) {
    const double m = observations[i];
    const double left = i > 0 ? observations[i - 1] : lo;
    const double right = i + 1 < observations.size() ? observations[i + 1] : hi;
    mu_.push_back(m);
    sigma_.push_back(std::clamp(std::max(m - left, right - m), min_sigma, range));
  }
  mu_.push_back(lo + range / 2);  // the prior
  sigma_.push_back(range);
  for (std::size_t i = 0; i < mu_.size(); ++i) {
    const double mass = normal_cdf((hi - mu_[i]) / sigma_[i]) - normal_cdf((lo - mu_[i]) / sigma_[i]);
    log_mass_.push_back(std::log(std::max(mass, 1e-300)));
  }
}

double Parzen::sample(lamina::Rng& rng) const {
  const std::size_t k = rng.below(mu_.size());
  // Rejection from the chosen Gaussian: its mass inside is at least Phi(0.5) - Phi(-0.5) of a
  // width-sized interval (~0.38), so 64 tries all failing is practically impossible; the clamp
  // keeps the result inside even then.
  double x = mu_[k];
  for (int tries = 0; tries < 64; ++tries) {
    x = mu_[k] + sigma_[k] * standard_normal(rng);
    if (x >= lo_ && x <= hi_) return x;
  }
  return std::clamp(x, lo_, hi_);
}

double Parzen::log_pdf(double x) const {
  // log-sum-exp over the equally weighted components
  std::vector<double> terms;
  double top = -INFINITY;
  for (std::size_t i = 0; i < mu_.size(); ++i) {
    const double z = (x - mu_[i]) / sigma_[i];
    const double t = -0.5 * z * z - std::log(sigma_[i] * std::sqrt(2.0 * std::numbers::pi)) - log_mass_[i];
    terms.push_back(t);
    top = std::max(top, t);
  }
  double sum = 0;
  for (double t : terms) sum += std::exp(t - top);
  return top + std::log(sum) - std::log(static_cast<double>(mu_.size()));
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
