// Metrics of regression targets (K floats per sample; lamina/metric.hpp), from sums in double
// of the residuals d = output - target over every sample and output:
//   mae   mean |d| over all N x K residuals (scikit-learn's mean_absolute_error, averaged over
//         outputs, is the same number). Lower is better. Sums: Σ|d|, N K.
//   rmse  sqrt(mean d²) over all N x K residuals, the square root of the mse loss. Lower is
//         better; the default for regression. Sums: Σd², N K.
//   r2    the mean over outputs of 1 - Σd² / Σ(y - ȳ)², scikit-learn's r2_score with
//         multioutput="uniform_average"; NaN when a target is constant over the split (its
//         variance is 0). Higher is better. Sums per output: n, Σy, Σy², Σd².
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>

#include <lamina/error.hpp>
#include <lamina/metric.hpp>
#include <lamina/plugin.hpp>

namespace lamina_regression_metrics {

using namespace lamina;

void check_fit(const Tensor& scores, const Targets& t, const char* who) {
  if (scores.size() != static_cast<std::int64_t>(t.values.size()) || scores.size() != t.count * t.width) {
    throw Error(std::string(who) + ": " + std::to_string(scores.size()) + " outputs but " +
                std::to_string(t.values.size()) + " targets");
  }
}

enum class Form { Absolute, Squared };

// mae and rmse: a sum of |d| or d² and a count.
class MeanError final : public Metric {
 public:
  MeanError(Form form, const char* name) : form_(form), name_(name) {}
  bool accepts(TargetKind kind) const override { return kind == TargetKind::Regression; }
  bool higher_is_better() const override { return false; }
  bool is_default(TargetKind kind) const override { return form_ == Form::Squared && kind == TargetKind::Regression; }
  std::size_t sums(std::int64_t) const override { return 2; }
  void add(const Tensor& scores, const Targets& t, std::span<double> sums) const override {
    check_fit(scores, t, name_);
    double total = 0;
    for (std::int64_t i = 0; i < scores.size(); ++i) {
      const double d = static_cast<double>(scores[i]) - static_cast<double>(t.values[static_cast<std::size_t>(i)]);
      total += form_ == Form::Absolute ? std::abs(d) : d * d;
    }
    sums[0] += total;
    sums[1] += static_cast<double>(scores.size());
  }
  double value(std::span<const double> sums) const override {
    if (!(sums[1] > 0)) return NAN;
    const double mean = sums[0] / sums[1];
    return form_ == Form::Absolute ? mean : std::sqrt(mean);
  }

 private:
  Form form_;
  const char* name_;
};

class R2 final : public Metric {
 public:
  bool accepts(TargetKind kind) const override { return kind == TargetKind::Regression; }
  bool higher_is_better() const override { return true; }
  std::size_t sums(std::int64_t width) const override { return 4 * static_cast<std::size_t>(width); }
  void add(const Tensor& scores, const Targets& t, std::span<double> sums) const override {
    check_fit(scores, t, "r2");
    const std::int64_t k = t.width;
    if (4 * static_cast<std::size_t>(k) != sums.size()) throw Error("r2: targets of another width than at load");
    for (std::int64_t i = 0; i < t.count; ++i) {
      for (std::int64_t j = 0; j < k; ++j) {
        const double y = static_cast<double>(t.values[static_cast<std::size_t>(i * k + j)]);
        const double d = static_cast<double>(scores[i * k + j]) - y;
        double* s = sums.data() + 4 * j;
        s[0] += 1;
        s[1] += y;
        s[2] += y * y;
        s[3] += d * d;
      }
    }
  }
  double value(std::span<const double> sums) const override {
    const std::size_t k = sums.size() / 4;
    double total = 0;
    for (std::size_t j = 0; j < k; ++j) {
      const double n = sums[4 * j], sy = sums[4 * j + 1], syy = sums[4 * j + 2], sdd = sums[4 * j + 3];
      const double total_squares = syy - sy * sy / n;  // Σ(y - ȳ)²
      if (!(n > 0) || !(total_squares > 0)) return NAN;
      total += 1 - sdd / total_squares;
    }
    return k > 0 ? total / static_cast<double>(k) : NAN;
  }
};

void register_types(Registrar& r) {
  r.add<Metric>("mae", "mean absolute error over every output (regression)", {},
                [](const Config&) { return std::make_unique<MeanError>(Form::Absolute, "mae"); });
  r.add<Metric>("rmse", "root of the mean squared error over every output (regression)", {},
                [](const Config&) { return std::make_unique<MeanError>(Form::Squared, "rmse"); });
  r.add<Metric>("r2", "coefficient of determination, averaged over the outputs (regression)", {},
                [](const Config&) { return std::make_unique<R2>(); });
}

}  // namespace lamina_regression_metrics

LAMINA_PLUGIN("regression_metrics", LAMINA_VERSION_STRING, "Metrics of regression targets: mae, rmse, r2",
              lamina_regression_metrics::register_types)
