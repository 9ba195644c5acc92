// Binary cross-entropy on logits, the multi-label loss: each of the C scores of a sample is the
// logit of one label being present, independently of the others (PyTorch's BCEWithLogitsLoss,
// reduction 'mean'). With sigma the logistic function and p_c the label's pos_weight:
//   l_ic = -[p_c y_ic log sigma(s_ic) + (1 - y_ic) log(1 - sigma(s_ic))]
//   L = 1/NC sum l_ic,    dL/ds_ic = [sigma(s_ic) (1 - y_ic + p_c y_ic) - p_c y_ic] / NC
// log sigma(s) = -softplus(-s) and log(1 - sigma(s)) = -softplus(s), with softplus(x) =
// max(x, 0) + log1p(exp(-|x|)), so a confident logit of either sign never takes log(0).
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <lamina/error.hpp>
#include <lamina/loss.hpp>
#include <lamina/plugin.hpp>

namespace lamina_bce_with_logits {

using namespace lamina;

double softplus(double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x))); }

class BceWithLogits final : public Loss {
 public:
  explicit BceWithLogits(std::vector<double> pos_weight) : pos_weight_(std::move(pos_weight)) {}

  bool accepts(TargetKind kind) const override { return kind == TargetKind::MultiLabel; }

  float forward(const Tensor& scores, const Targets& t) override {
    if (scores.size() != static_cast<std::int64_t>(t.values.size()) || scores.size() != t.count * t.width) {
      throw Error("bce_with_logits: " + std::to_string(scores.size()) + " scores but " +
                  std::to_string(t.values.size()) + " labels");
    }
    if (!pos_weight_.empty() && static_cast<std::int64_t>(pos_weight_.size()) != t.width) {
      throw InputError("bce_with_logits: pos_weight has " + std::to_string(pos_weight_.size()) +
                       " weights but the samples have " + std::to_string(t.width) + " labels");
    }
    scores_ = &scores;
    targets_ = t.values;
    width_ = t.width;
    double total = 0;
    for (std::int64_t i = 0; i < scores.size(); ++i) {
      const double s = scores[i], y = t.values[static_cast<std::size_t>(i)];
      const double p = weight(i);
      total += p * y * softplus(-s) + (1 - y) * softplus(s);
    }
    return static_cast<float>(total / static_cast<double>(std::max<std::int64_t>(scores.size(), 1)));
  }

  void backward(Tensor& dscores) override {
    const Tensor& scores = *scores_;
    dscores.resize(scores.shape());
    const double inv = 1.0 / static_cast<double>(std::max<std::int64_t>(scores.size(), 1));
    for (std::int64_t i = 0; i < scores.size(); ++i) {
      const double s = scores[i], y = targets_[static_cast<std::size_t>(i)];
      const double p = weight(i);
      const double sigma = 1.0 / (1.0 + std::exp(-s));
      dscores[i] = static_cast<float>((sigma * (1 - y + p * y) - p * y) * inv);
    }
  }

 private:
  double weight(std::int64_t i) const {
    return pos_weight_.empty() ? 1.0 : pos_weight_[static_cast<std::size_t>(i % width_)];
  }

  std::vector<double> pos_weight_;
  const Tensor* scores_ = nullptr;
  std::span<const float> targets_;
  std::int64_t width_ = 1;
};

void register_types(Registrar& r) {
  r.add<Loss>("bce_with_logits",
              "binary cross-entropy on logits, one independent yes/no per label (multi-label targets)",
              {Key::numbers("pos_weight",
                            "a weight per label on its positive term (PyTorch's `pos_weight`): above 1 trades "
                            "precision for recall on a rare label (default: 1 for every label)")
                   .at_least(0)},
              [](const Config& c) { return std::make_unique<BceWithLogits>(c.numbers("pos_weight")); });
}

}  // namespace lamina_bce_with_logits

LAMINA_PLUGIN("bce_with_logits", LAMINA_VERSION_STRING, "Binary cross-entropy on logits (multi-label)",
              lamina_bce_with_logits::register_types)
