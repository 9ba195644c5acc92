// Mixup (Zhang et al. 2018, arXiv:1710.09412): each sample becomes a convex combination of
// itself and another sample of the batch, targets included,
//   x_i = lam x_i + (1 - lam) x_perm(i),   y_i = lam y_i + (1 - lam) y_perm(i),
// with one lam ~ Beta(alpha, alpha) per batch and perm a random permutation, as the paper's
// reference code does. Class targets become class probabilities (the host hands them over as
// one-hot rows); multi-label and regression targets mix the same way. alpha 0 mixes nothing.
#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "image_batch.hpp"
#include "pixel.hpp"

namespace lamina_augmentations {

using namespace lamina;

namespace {

// The batch's Rng as a standard random bit generator, for std::gamma_distribution.
struct Bits {
  using result_type = std::uint64_t;
  Rng* rng;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type{0}; }
  result_type operator()() { return rng->next(); }
};

class Mixup final : public Augmentation {
 public:
  explicit Mixup(double alpha) : alpha_(alpha) {}

  TargetKind output_kind(const Shape&, TargetKind in) const override {
    if (in == TargetKind::ClassPerPosition) {
      throw InputError("mixup mixes whole samples; it does not take a class per position");
    }
    return in == TargetKind::Class ? TargetKind::ClassProbabilities : in;
  }
  bool is_identity() const override { return alpha_ == 0; }

  void apply(Tensor& x, AugmentTargets& t, Rng& rng) override {
    const std::int64_t n = x.rows(), d = x.cols(), k = t.width;
    if (alpha_ == 0 || n < 2) return;
    Bits bits{&rng};
    std::gamma_distribution<double> gamma(alpha_, 1.0);
    const double a = gamma(bits), b = gamma(bits);
    const float lam = static_cast<float>(a + b > 0 ? a / (a + b) : 0.5);
    perm_.resize(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) perm_[i] = i;
    for (std::int64_t i = n; i > 1; --i) std::swap(perm_[i - 1], perm_[rng.below(static_cast<std::uint64_t>(i))]);
    x_copy_.assign(x.data(), x.data() + n * d);
    y_copy_.assign(t.values.begin(), t.values.end());
    for_samples(n, d, [&](std::int64_t i) {
      const float* other = x_copy_.data() + perm_[i] * d;
      float* v = x.data() + i * d;
      for (std::int64_t j = 0; j < d; ++j) v[j] = lam * v[j] + (1 - lam) * other[j];
    });
    for (std::int64_t i = 0; i < n && !t.values.empty(); ++i) {
      const float* other = y_copy_.data() + perm_[i] * k;
      float* y = t.values.data() + i * k;
      for (std::int64_t j = 0; j < k; ++j) y[j] = lam * y[j] + (1 - lam) * other[j];
    }
  }

 private:
  double alpha_;
  std::vector<std::int64_t> perm_;
  std::vector<float> x_copy_, y_copy_;
};

}  // namespace

std::unique_ptr<Augmentation> make_mixup(const Config& c) { return std::make_unique<Mixup>(c.get<double>("alpha")); }

}  // namespace lamina_augmentations
