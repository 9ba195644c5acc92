// The built-in training callbacks (lamina/callback.hpp):
//   early_stopping  ends the run when the watched metric has not improved by more than min_delta
//                   for `patience` epochs (Keras's EarlyStopping); the reason goes to run.json
//   keep_best       marks each epoch whose watched metric is the best so far, so the host keeps
//                   its weights (model-best.safetensors; `lamina eval --best`, `predict --best`)
//   clip_gradients  before each update, scales the batch's gradients so that their global L2
//                   norm is at most max_norm (PyTorch's clip_grad_norm_, Caffe's
//                   clip_gradients), or clips each element to [-max_norm, max_norm] (mode: value)
// early_stopping and keep_best keep their best value and count in the checkpoint.
#include <lamina/callback.hpp>
#include <lamina/eigen.hpp>
#include <lamina/plugin.hpp>

#include <cmath>
#include <memory>
#include <optional>
#include <string>

namespace lamina_callbacks {

using namespace lamina;

// What two callbacks watch: a measure of a split (`val_loss`, `val_r2`), made "lower is better"
// by the direction its metric plugin gives, kept in float like the checkpoint.
class Watch {
 public:
  explicit Watch(const Config& c)
      : name_(c.get<std::string>("metric")), min_delta_(static_cast<float>(c.get<double>("min_delta"))) {}

  // Whether `m` improves on the best by more than min_delta (the first epoch always does).
  bool improves(const EpochEnd& m, const char* who) {
    const std::optional<Watched> w = m.find(name_);
    if (!w) throw InputError(std::string(who) + " watches " + name_ + ", which the model does not report");
    if (std::isnan(w->value)) {
      throw InputError(std::string(who) + " watches " + name_ + ", which is not a number at epoch " +
                       std::to_string(m.epoch) + " (no validation split, or a metric undefined on this split)");
    }
    higher_ = w->higher_is_better;
    const double v = higher_ ? -w->value : w->value;
    const auto x = static_cast<float>(v);
    if (seen_ && !(x < best_ - min_delta_)) return false;
    best_ = x;
    seen_ = true;
    return true;
  }
  const std::string& name() const { return name_; }
  double shown(float v) const { return higher_ ? -v : v; }
  float best() const { return best_; }

  void save(std::vector<Buffer>& out) const { out.push_back(scalar("best", seen_ ? best_ : NAN)); }
  bool load(const Buffer& b) {
    if (b.name != "best") return false;
    check_scalar(b);
    seen_ = !std::isnan(b.value[0]);
    best_ = b.value[0];
    return true;
  }

  static Buffer scalar(const char* name, float v) {
    Buffer b{name, Tensor(Shape{1})};
    b.value[0] = v;
    return b;
  }
  static void check_scalar(const Buffer& b) {
    if (b.value.size() != 1) throw InputError("callback state '" + b.name + "' is not one number");
  }

 private:
  std::string name_;
  bool higher_ = false;
  float min_delta_;
  bool seen_ = false;
  float best_ = 0;
};

Schema watch_keys(const char* metric_doc) {
  return {Key::metric("metric", metric_doc).def("val_loss"),
          Key::number("min_delta", "the least change that counts as an improvement").def(0.0).at_least(0)};
}

class EarlyStopping final : public Callback {
 public:
  explicit EarlyStopping(const Config& c) : watch_(c), patience_(c.get<std::int64_t>("patience")) {}

  CallbackAction end_epoch(const EpochEnd& m) override {
    if (watch_.improves(m, "early_stopping")) {
      bad_epochs_ = 0;
      best_epoch_ = m.epoch;
      return {};
    }
    if (++bad_epochs_ < patience_) return {};
    return {true, false,
            "early_stopping: " + watch_.name() + " has not improved for " + std::to_string(patience_) +
                " epoch" + (patience_ == 1 ? "" : "s") + " (best " + std::to_string(watch_.shown(watch_.best())) +
                " at epoch " + std::to_string(best_epoch_) + ")"};
  }
  void save_state(std::vector<Buffer>& out) const override {
    watch_.save(out);
    out.push_back(Watch::scalar("bad_epochs", static_cast<float>(bad_epochs_)));
    out.push_back(Watch::scalar("best_epoch", static_cast<float>(best_epoch_)));
  }
  void load_state(std::span<const Buffer> state) override {
    for (const auto& b : state) {
      if (watch_.load(b)) continue;
      Watch::check_scalar(b);
      if (b.name == "bad_epochs") {
        bad_epochs_ = static_cast<std::int64_t>(b.value[0]);
      } else if (b.name == "best_epoch") {
        best_epoch_ = static_cast<std::int64_t>(b.value[0]);
      } else {
        throw InputError("unexpected callback state '" + b.name + "'");
      }
    }
  }

 private:
  Watch watch_;
  std::int64_t patience_;
  std::int64_t bad_epochs_ = 0, best_epoch_ = 0;
};

class KeepBest final : public Callback {
 public:
  explicit KeepBest(const Config& c) : watch_(c) {}
  CallbackAction end_epoch(const EpochEnd& m) override { return {false, watch_.improves(m, "keep_best"), ""}; }
  void save_state(std::vector<Buffer>& out) const override { watch_.save(out); }
  void load_state(std::span<const Buffer> state) override {
    for (const auto& b : state) {
      if (!watch_.load(b)) throw InputError("unexpected callback state '" + b.name + "'");
    }
  }

 private:
  Watch watch_;
};

class ClipGradients final : public Callback {
 public:
  explicit ClipGradients(const Config& c)
      : max_(static_cast<float>(c.get<double>("max_norm"))), by_value_(c.get<std::string>("mode") == "value") {}

  void before_update(std::span<Param* const> params, const TrainStep&) override {
    if (by_value_) {
      for (Param* p : params) array(p->grad) = array(p->grad).max(-max_).min(max_);
      return;
    }
    double sq = 0;
    for (const Param* p : params) sq += static_cast<double>(array(p->grad).square().sum());
    const double norm = std::sqrt(sq);
    if (!(norm > max_)) return;  // within the bound (or NaN: the trainer reports a NaN loss)
    const auto scale = static_cast<float>(max_ / norm);
    for (Param* p : params) array(p->grad) *= scale;
  }

 private:
  float max_;
  bool by_value_;
};

void register_types(Registrar& r) {
  Schema stop = watch_keys("the metric watched");
  stop.push_back(Key::integer("patience", "epochs without improvement before stopping").def(3).at_least(1));
  r.add<Callback>("early_stopping", "ends the run when a metric stops improving (the reason goes to run.json)",
                  std::move(stop), [](const Config& c) { return std::make_unique<EarlyStopping>(c); });
  r.add<Callback>("keep_best", "keeps the weights of the best epoch by a metric (model-best.safetensors)",
                  watch_keys("the metric that decides the best epoch"),
                  [](const Config& c) { return std::make_unique<KeepBest>(c); });
  r.add<Callback>("clip_gradients", "bounds each batch's gradients before the update: global L2 norm, or each value",
                  {Key::number("max_norm", "the bound: of the global norm (mode norm) or of each element (value)")
                       .def(1.0)
                       .above(0),
                   Key::string("mode", "norm: rescale all gradients together; value: clip each element")
                       .def("norm")
                       .one_of({"norm", "value"})},
                  [](const Config& c) { return std::make_unique<ClipGradients>(c); });
}

}  // namespace lamina_callbacks

LAMINA_PLUGIN("callbacks", LAMINA_VERSION_STRING, "Training callbacks: early_stopping, keep_best, clip_gradients",
              lamina_callbacks::register_types)
