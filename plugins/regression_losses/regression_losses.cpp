// Losses for regression targets (K floats per sample), each the mean over the batch's N x K
// residuals d = s - y, as PyTorch's MSELoss, HuberLoss and L1Loss with reduction 'mean':
//   mse     d^2                                        dL/ds = 2 d / NK
//   huber   d^2 / 2 if |d| <= delta, else delta (|d| - delta / 2)
//                                                       dL/ds = clamp(d, -delta, delta) / NK
//   mae     |d|                                        dL/ds = sign(d) / NK  (0 at d = 0)
// Sums are kept in double: a batch of 10^6 residuals would lose digits in float.
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <lamina/error.hpp>
#include <lamina/loss.hpp>
#include <lamina/plugin.hpp>

namespace lamina_regression_losses {

using namespace lamina;

enum class Form { Squared, Huber, Absolute };

class ResidualLoss final : public Loss {
 public:
  ResidualLoss(Form form, double delta, std::string name) : form_(form), delta_(delta), name_(std::move(name)) {}

  bool accepts(TargetKind kind) const override { return kind == TargetKind::Regression; }

  float forward(const Tensor& scores, const Targets& t) override {
    if (scores.size() != static_cast<std::int64_t>(t.values.size()) || scores.size() != t.count * t.width) {
      throw Error(name_ + ": " + std::to_string(scores.size()) + " outputs but " + std::to_string(t.values.size()) +
                  " targets");
    }
    residual_.resize(scores.shape());
    double total = 0;
    for (std::int64_t i = 0; i < scores.size(); ++i) {
      const double d = static_cast<double>(scores[i]) - static_cast<double>(t.values[static_cast<std::size_t>(i)]);
      residual_[i] = static_cast<float>(d);
      const double a = std::abs(d);
      switch (form_) {
        case Form::Squared:
          total += d * d;
          break;
        case Form::Huber:
          total += a <= delta_ ? 0.5 * d * d : delta_ * (a - 0.5 * delta_);
          break;
        case Form::Absolute:
          total += a;
          break;
      }
    }
    return static_cast<float>(total / static_cast<double>(std::max<std::int64_t>(scores.size(), 1)));
  }

  void backward(Tensor& dscores) override {
    dscores.resize(residual_.shape());
    const double inv = 1.0 / static_cast<double>(std::max<std::int64_t>(residual_.size(), 1));
    for (std::int64_t i = 0; i < residual_.size(); ++i) {
      const double d = residual_[i];
      double g = 0;
      switch (form_) {
        case Form::Squared:
          g = 2 * d;
          break;
        case Form::Huber:
          g = std::clamp(d, -delta_, delta_);
          break;
        case Form::Absolute:
          g = static_cast<double>((d > 0) - (d < 0));
          break;
      }
      dscores[i] = static_cast<float>(g * inv);
    }
  }

 private:
  Form form_;
  double delta_;
  std::string name_;
  Tensor residual_;
};

void register_types(Registrar& r) {
  r.add<Loss>("mse", "mean squared error over every output (regression targets)", {},
              [](const Config&) { return std::make_unique<ResidualLoss>(Form::Squared, 0.0, "mse"); });
  r.add<Loss>("huber",
              "Huber loss: squared error within delta of the target, linear beyond it (regression targets)",
              {Key::number("delta", "where the loss turns from squared to linear").def(1.0).above(0)},
              [](const Config& c) { return std::make_unique<ResidualLoss>(Form::Huber, c.get<double>("delta"), "huber"); });
  r.add<Loss>("mae", "mean absolute error over every output (regression targets)", {},
              [](const Config&) { return std::make_unique<ResidualLoss>(Form::Absolute, 0.0, "mae"); });
}

}  // namespace lamina_regression_losses

LAMINA_PLUGIN("regression_losses", LAMINA_VERSION_STRING, "Regression losses: mse, huber, mae",
              lamina_regression_losses::register_types)
