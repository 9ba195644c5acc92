// quantile: a loss and a metric for quantile regression, written against the SDK alone, as a
// third party would.
//   quantile  the pinball loss of each output: tau d if d >= 0, (tau - 1) d otherwise, with
//             d = target - output, averaged over every output; at its minimum the output is the
//             tau-quantile of the target (tau 0.5: the median). Gradient -tau or 1 - tau over NK.
//   pinball   the same number as a metric (lower is better), from two sums, so that a search can
//             rank trials by `metric: val_pinball`.
#include <lamina/error.hpp>
#include <lamina/loss.hpp>
#include <lamina/metric.hpp>
#include <lamina/plugin.hpp>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

namespace {

double pinball(double d, double tau) { return d >= 0 ? tau * d : (tau - 1) * d; }

void check_fit(const lamina::Tensor& scores, const lamina::Targets& t) {
  if (scores.size() != static_cast<std::int64_t>(t.values.size())) {
    throw lamina::Error("quantile: " + std::to_string(scores.size()) + " outputs but " +
                        std::to_string(t.values.size()) + " targets");
  }
}

class QuantileLoss final : public lamina::Loss {
 public:
  explicit QuantileLoss(double tau) : tau_(tau) {}
  bool accepts(lamina::TargetKind kind) const override { return kind == lamina::TargetKind::Regression; }
  float forward(const lamina::Tensor& scores, const lamina::Targets& t) override {
    check_fit(scores, t);
    above_.assign(static_cast<std::size_t>(scores.size()), false);
    double total = 0;
    for (std::int64_t i = 0; i < scores.size(); ++i) {
      const double d = static_cast<double>(t.values[static_cast<std::size_t>(i)]) - scores[i];
      above_[static_cast<std::size_t>(i)] = d >= 0;
      total += pinball(d, tau_);
    }
    shape_ = scores.shape();
    return static_cast<float>(total / static_cast<double>(scores.size()));
  }
  void backward(lamina::Tensor& dscores) override {
    dscores.resize(shape_);
    const auto n = static_cast<double>(dscores.size());
    for (std::int64_t i = 0; i < dscores.size(); ++i) {
      dscores[i] = static_cast<float>((above_[static_cast<std::size_t>(i)] ? -tau_ : 1 - tau_) / n);
    }
  }

 private:
  double tau_;
  std::vector<bool> above_;
  lamina::Shape shape_;
};

class PinballMetric final : public lamina::Metric {
 public:
  explicit PinballMetric(double tau) : tau_(tau) {}
  bool accepts(lamina::TargetKind kind) const override { return kind == lamina::TargetKind::Regression; }
  bool higher_is_better() const override { return false; }
  std::size_t sums(std::int64_t) const override { return 2; }
  void add(const lamina::Tensor& scores, const lamina::Targets& t, std::span<double> sums) const override {
    check_fit(scores, t);
    for (std::int64_t i = 0; i < scores.size(); ++i) {
      sums[0] += pinball(static_cast<double>(t.values[static_cast<std::size_t>(i)]) - scores[i], tau_);
    }
    sums[1] += static_cast<double>(scores.size());
  }
  double value(std::span<const double> sums) const override { return sums[1] > 0 ? sums[0] / sums[1] : NAN; }

 private:
  double tau_;
};

void register_types(lamina::Registrar& r) {
  const auto tau = [] {
    return lamina::Key::number("tau", "the quantile, in (0, 1); 0.5 is the median").def(0.5).above(0).below(1);
  };
  r.add<lamina::Loss>("quantile", "pinball loss of the tau-quantile (regression targets)", {tau()},
                      [](const lamina::Config& c) { return std::make_unique<QuantileLoss>(c.get<double>("tau")); });
  r.add<lamina::Metric>("pinball", "mean pinball loss of the tau-quantile (regression; lower is better)", {tau()},
                        [](const lamina::Config& c) { return std::make_unique<PinballMetric>(c.get<double>("tau")); });
}

}  // namespace

LAMINA_PLUGIN("quantile", "1.0.0", "Quantile regression: the pinball loss and metric", register_types)
