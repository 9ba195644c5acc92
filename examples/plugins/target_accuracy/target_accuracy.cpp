// target_accuracy: a training callback that ends the run once an accuracy reaches a target —
// "train until good enough" — written against the SDK alone, as a third party would.
#include <lamina/callback.hpp>
#include <lamina/plugin.hpp>

#include <cmath>
#include <cstdio>
#include <memory>

namespace {

class TargetAccuracy final : public lamina::Callback {
 public:
  explicit TargetAccuracy(const lamina::Config& c)
      : target_(c.get<double>("target")), validation_(c.get<std::string>("on") == "validation") {}

  lamina::CallbackAction end_epoch(const lamina::EpochEnd& m) override {
    // The epoch's measures by their metrics.csv names; the model must report accuracy.
    const auto watched = m.find(validation_ ? "val_accuracy" : "train_accuracy");
    if (!watched) throw lamina::InputError("target_accuracy needs a model that reports accuracy (metrics: [accuracy])");
    const double accuracy = watched->value;
    if (std::isnan(accuracy)) throw lamina::InputError("target_accuracy on validation needs data.validation_split");
    if (accuracy < target_) return {};
    char reason[128];
    std::snprintf(reason, sizeof reason, "target_accuracy: %s accuracy %.4f reached the target %.4f at epoch %lld",
                  validation_ ? "validation" : "train", accuracy, target_, static_cast<long long>(m.epoch));
    return {true, false, reason};
  }

 private:
  double target_;
  bool validation_;
};

void register_types(lamina::Registrar& r) {
  r.add<lamina::Callback>(
      "target_accuracy", "ends the run once an accuracy reaches a target",
      {lamina::Key::number("target", "the accuracy to reach").def(0.9).above(0).at_most(1),
       lamina::Key::string("on", "which accuracy").def("validation").one_of({"validation", "train"})},
      [](const lamina::Config& c) { return std::make_unique<TargetAccuracy>(c); });
}

}  // namespace

LAMINA_PLUGIN("target_accuracy", "1.0.0", "Stop training at a target accuracy", register_types)
