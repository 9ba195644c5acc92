// The built-in learning-rate schedules (lamina/schedule.hpp): each gives the factor the
// optimizer's lr is multiplied by at a step.
//   constant           1
//   step               factor^floor((epoch - 1) / every): Caffe's "step" lr_policy, per epoch
//   exponential        gamma^(epoch - 1), per epoch
//   cosine             a linear warm-up from 1/W to 1 over the first W = warmup_epochs epochs'
//                      steps, then min_factor + (1 - min_factor)(1 + cos(pi p)) / 2 with p the
//                      fraction of the remaining steps done (SGDR without restarts, per step)
//   reduce_on_plateau  multiplies the factor by `factor` when the watched validation metric has
//                      not improved by more than min_delta for more than `patience` epochs,
//                      never below min_factor (Keras's ReduceLROnPlateau); its state is saved
#include <lamina/plugin.hpp>
#include <lamina/schedule.hpp>

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <memory>

namespace lamina_schedules {

using namespace lamina;

class Constant final : public Schedule {
 public:
  double factor(const TrainStep&) override { return 1.0; }
};

class StepDecay final : public Schedule {
 public:
  explicit StepDecay(const Config& c) : every_(c.get<std::int64_t>("every")), factor_(c.get<double>("factor")) {}
  double factor(const TrainStep& at) override {
    return std::pow(factor_, static_cast<double>((at.epoch - 1) / every_));
  }

 private:
  std::int64_t every_;
  double factor_;
};

class Exponential final : public Schedule {
 public:
  explicit Exponential(const Config& c) : gamma_(c.get<double>("gamma")) {}
  double factor(const TrainStep& at) override { return std::pow(gamma_, static_cast<double>(at.epoch - 1)); }

 private:
  double gamma_;
};

class Cosine final : public Schedule {
 public:
  explicit Cosine(const Config& c)
      : warmup_epochs_(c.get<std::int64_t>("warmup_epochs")), min_factor_(c.get<double>("min_factor")) {}
  double factor(const TrainStep& at) override {
    const std::int64_t warmup = std::min(warmup_epochs_, at.epochs) * at.steps_per_epoch;
    if (at.step < warmup) return static_cast<double>(at.step + 1) / static_cast<double>(warmup);
    const std::int64_t rest = std::max<std::int64_t>(1, at.epochs * at.steps_per_epoch - warmup);
    const double p = std::min(1.0, static_cast<double>(at.step - warmup) / static_cast<double>(rest));
    return min_factor_ + (1.0 - min_factor_) * 0.5 * (1.0 + std::cos(M_PI * p));
  }

 private:
  std::int64_t warmup_epochs_;
  double min_factor_;
};

class ReduceOnPlateau final : public Schedule {
 public:
  explicit ReduceOnPlateau(const Config& c)
      : metric_(c.get<std::string>("metric")),
        patience_(c.get<std::int64_t>("patience")),
        factor_(static_cast<float>(c.get<double>("factor"))),
        min_factor_(static_cast<float>(c.get<double>("min_factor"))),
        min_delta_(static_cast<float>(c.get<double>("min_delta"))) {}

  double factor(const TrainStep&) override { return current_; }

  void end_epoch(const EpochEnd& m) override {
    const std::optional<Watched> w = m.find(metric_);
    if (!w || std::isnan(w->value)) {
      throw InputError("reduce_on_plateau watches " + metric_ + ", which is not a number at epoch " +
                       std::to_string(m.epoch) + " (no validation split, or a metric undefined on this split)");
    }
    // Lower is better here, as the metric's direction says; kept in float, as the checkpoint
    // keeps it: a resumed run decides exactly as one that ran on.
    const auto value = static_cast<float>(w->higher_is_better ? -w->value : w->value);
    if (!seen_ || value < best_ - min_delta_) {
      best_ = value;
      seen_ = true;
      bad_epochs_ = 0;
    } else if (++bad_epochs_ > patience_) {
      current_ = std::max(current_ * factor_, min_factor_);
      bad_epochs_ = 0;
    }
  }

  void save_state(std::vector<Buffer>& out) const override {
    out.push_back(scalar("best", seen_ ? best_ : NAN));
    out.push_back(scalar("bad_epochs", static_cast<float>(bad_epochs_)));
    out.push_back(scalar("factor", current_));
  }
  void load_state(std::span<const Buffer> state) override {
    for (const auto& b : state) {
      if (b.value.size() != 1) throw InputError("schedule state '" + b.name + "' is not one number");
      const float v = b.value[0];
      if (b.name == "best") {
        seen_ = !std::isnan(v);
        best_ = v;
      } else if (b.name == "bad_epochs") {
        bad_epochs_ = static_cast<std::int64_t>(v);
      } else if (b.name == "factor") {
        current_ = v;
      } else {
        throw InputError("unexpected schedule state '" + b.name + "'");
      }
    }
  }

 private:
  static Buffer scalar(const char* name, float v) {
    Buffer b{name, Tensor(Shape{1})};
    b.value[0] = v;
    return b;
  }
  std::string metric_;
  std::int64_t patience_;
  float factor_, min_factor_, min_delta_;
  bool seen_ = false;
  float best_ = 0;
  std::int64_t bad_epochs_ = 0;
  float current_ = 1.0f;
};

void register_types(Registrar& r) {
  r.add<Schedule>("constant", "the optimizer's lr throughout", {},
                  [](const Config&) { return std::make_unique<Constant>(); });
  r.add<Schedule>("step", "lr times `factor` every `every` epochs",
                  {Key::integer("every", "epochs between two reductions").def(10).at_least(1),
                   Key::number("factor", "what the lr is multiplied by at each reduction").def(0.1).above(0).at_most(1)},
                  [](const Config& c) { return std::make_unique<StepDecay>(c); });
  r.add<Schedule>("exponential", "lr times gamma^(epoch - 1)",
                  {Key::number("gamma", "the factor per epoch").def(0.95).above(0).at_most(1)},
                  [](const Config& c) { return std::make_unique<Exponential>(c); });
  r.add<Schedule>(
      "cosine", "cosine decay from lr to min_factor * lr over the run, per step, after an optional linear warm-up",
      {Key::integer("warmup_epochs", "epochs of linear warm-up from lr / steps to lr").def(0).at_least(0),
       Key::number("min_factor", "the factor at the end of the run").def(0.0).at_least(0).below(1)},
      [](const Config& c) { return std::make_unique<Cosine>(c); });
  r.add<Schedule>(
      "reduce_on_plateau", "lr times `factor` when a validation metric stops improving (needs a validation split)",
      {Key::metric("metric", "the measure watched: val_loss, or val_ and one of the model's metrics (its direction "
                             "is the metric's)")
           .def("val_loss"),
       Key::integer("patience", "epochs without improvement before a reduction").def(2).at_least(0),
       Key::number("factor", "what the lr is multiplied by at a reduction").def(0.1).above(0).below(1),
       Key::number("min_factor", "the floor of the factor").def(1e-3).above(0).at_most(1),
       Key::number("min_delta", "the least change that counts as an improvement").def(0.0).at_least(0)},
      [](const Config& c) { return std::make_unique<ReduceOnPlateau>(c); });
}

}  // namespace lamina_schedules

LAMINA_PLUGIN("schedules", LAMINA_VERSION_STRING,
              "Learning-rate schedules: constant, step, exponential, cosine, reduce_on_plateau",
              lamina_schedules::register_types)
