// Softmax with cross-entropy, the classification loss, for a class per sample and a class per
// position (scores (N, T, C): each position is a row of its own):
//   log p_ic = s_ic - max_c s_i - log sum_c exp(s_ic - max_c s_i)     (stable log-sum-exp)
//   L = -1/N sum_i log p_i,label(i)
//   dL/ds_ic = (p_ic - [c == label(i)]) / N
// Subtracting the row maximum keeps exp() from overflowing for large scores; computing log p
// directly (not log of p) keeps a confidently wrong sample from giving log(0) = -inf.
//
// With label_smoothing e and class_weights w (PyTorch's CrossEntropyLoss, reduction 'mean'):
//   q_ic = (1 - e) [c == y_i] + e / C
//   L = sum_i [ (1 - e) w_yi (-log p_i,yi) + e/C sum_c w_c (-log p_ic) ] / sum_i w_yi
//   dL/ds_ik = [ p_ik ((1 - e) w_yi + e/C sum_c w_c) - (1 - e) w_yi [k == y_i] - e/C w_k ] / sum_i w_yi
// Without either key the plain formulas above run, bit for bit as before the keys existed.
//
// Soft targets (class probabilities q, what mixup makes; PyTorch's probability targets):
//   q'_ic = (1 - e) q_ic + e / C
//   L = -1/N sum_i sum_c w_c q'_ic log p_ic
//   dL/ds_ik = [ p_ik sum_c w_c q'_ic - w_k q'_ik ] / N
// (with probabilities PyTorch divides by N, not by the batch's weight, and so does this).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include <lamina/eigen.hpp>
#include <lamina/error.hpp>
#include <lamina/loss.hpp>
#include <lamina/plugin.hpp>
#include <lamina/softmax.hpp>

namespace lamina_softmax_ce {

using namespace lamina;

class SoftmaxCrossEntropy final : public Loss {
 public:
  SoftmaxCrossEntropy(std::vector<double> class_weights, double label_smoothing)
      : weights_(std::move(class_weights)), smoothing_(label_smoothing) {}

  bool accepts(TargetKind kind) const override {
    return kind == TargetKind::Class || kind == TargetKind::ClassPerPosition || kind == TargetKind::ClassProbabilities;
  }

  float forward(const Tensor& scores, const Targets& t) override {
    // Rows of C scores: one per sample, or one per position of each sample.
    const std::int64_t c = scores.shape()[scores.rank() - 1];
    const std::int64_t n = scores.size() / std::max<std::int64_t>(c, 1);
    soft_ = t.kind == TargetKind::ClassProbabilities;
    if (soft_) return forward_soft(scores, t, n, c);
    if (static_cast<std::int64_t>(t.classes.size()) != n) {
      throw Error("softmax_cross_entropy: " + std::to_string(n) + " rows of scores but " +
                  std::to_string(t.classes.size()) + " labels");
    }
    if (!weights_.empty() && static_cast<std::int64_t>(weights_.size()) != c) {
      throw InputError("softmax_cross_entropy: class_weights has " + std::to_string(weights_.size()) +
                       " weights but the scores have " + std::to_string(c) + " classes");
    }
    probs_.resize(scores.shape());
    labels_ = t.classes;
    classes_ = c;
    rows_ = n;
    const bool plain = weights_.empty() && smoothing_ == 0;
    const double weight_sum = plain ? 0 : std::accumulate(weights_.begin(), weights_.end(), 0.0);
    double total = 0;
    row_weight_total_ = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      const float* s = scores.data() + i * c;
      float* p = probs_.data() + i * c;
      const auto [max, sum] = softmax_exponentials<float>(s, c, p);
      const float log_sum = static_cast<float>(std::log(sum));
      const auto label = t.classes[static_cast<std::size_t>(i)];
      if (label < 0 || label >= c) {
        throw Error("softmax_cross_entropy: label " + std::to_string(label) + " is outside the " + std::to_string(c) +
                    " classes of the scores");
      }
      if (plain) {
        total -= static_cast<double>(s[label] - max - log_sum);
      } else {
        const double wy = weights_.empty() ? 1.0 : weights_[static_cast<std::size_t>(label)];
        double smooth = 0;  // sum_c w_c (-log p_ic)
        for (std::int64_t j = 0; j < c; ++j) {
          const double w = weights_.empty() ? 1.0 : weights_[static_cast<std::size_t>(j)];
          smooth -= w * static_cast<double>(s[j] - max - log_sum);
        }
        total += (1 - smoothing_) * wy * -static_cast<double>(s[label] - max - log_sum) +
                 smoothing_ / static_cast<double>(c) * smooth;
        row_weight_total_ += wy;
      }
      const float inv = static_cast<float>(1.0 / sum);
      for (std::int64_t j = 0; j < c; ++j) p[j] *= inv;
    }
    if (plain) return static_cast<float>(total / static_cast<double>(n));
    weight_sum_ = weights_.empty() ? static_cast<double>(c) : weight_sum;
    if (!(row_weight_total_ > 0)) {
      throw InputError("softmax_cross_entropy: every sample of the batch has a class of weight 0 in class_weights");
    }
    return static_cast<float>(total / row_weight_total_);
  }

  void backward(Tensor& dscores) override {
    const std::int64_t n = rows_, c = classes_;
    dscores.resize(probs_.shape());
    if (soft_) {
      const double e = smoothing_, inv_n = 1.0 / static_cast<double>(n);
      for (std::int64_t i = 0; i < n; ++i) {
        const float* p = probs_.data() + i * c;
        const float* q = soft_targets_.data() + i * c;
        float* d = dscores.data() + i * c;
        double wq = 0;  // sum_c w_c q'_ic
        for (std::int64_t k = 0; k < c; ++k) wq += weight(k) * ((1 - e) * q[k] + e / static_cast<double>(c));
        for (std::int64_t k = 0; k < c; ++k) {
          const double qk = (1 - e) * q[k] + e / static_cast<double>(c);
          d[k] = static_cast<float>((static_cast<double>(p[k]) * wq - weight(k) * qk) * inv_n);
        }
      }
      return;
    }
    if (weights_.empty() && smoothing_ == 0) {
      const float inv_n = 1.0f / static_cast<float>(n);
      array(dscores) = array(probs_) * inv_n;
      for (std::int64_t i = 0; i < n; ++i) dscores[i * c + labels_[static_cast<std::size_t>(i)]] -= inv_n;
      return;
    }
    const double e = smoothing_, inv_w = 1.0 / row_weight_total_;
    for (std::int64_t i = 0; i < n; ++i) {
      const auto y = labels_[static_cast<std::size_t>(i)];
      const double wy = weights_.empty() ? 1.0 : weights_[static_cast<std::size_t>(y)];
      const double scale = (1 - e) * wy + e / static_cast<double>(c) * weight_sum_;
      const float* p = probs_.data() + i * c;
      float* d = dscores.data() + i * c;
      for (std::int64_t k = 0; k < c; ++k) {
        const double wk = weights_.empty() ? 1.0 : weights_[static_cast<std::size_t>(k)];
        double g = static_cast<double>(p[k]) * scale - e / static_cast<double>(c) * wk;
        if (k == y) g -= (1 - e) * wy;
        d[k] = static_cast<float>(g * inv_w);
      }
    }
  }

 private:
  double weight(std::int64_t k) const { return weights_.empty() ? 1.0 : weights_[static_cast<std::size_t>(k)]; }

  float forward_soft(const Tensor& scores, const Targets& t, std::int64_t n, std::int64_t c) {
    if (t.width != c || static_cast<std::int64_t>(t.values.size()) != n * c) {
      throw Error("softmax_cross_entropy: " + std::to_string(n) + " rows of " + std::to_string(c) +
                  " scores but class probabilities of width " + std::to_string(t.width));
    }
    if (!weights_.empty() && static_cast<std::int64_t>(weights_.size()) != c) {
      throw InputError("softmax_cross_entropy: class_weights has " + std::to_string(weights_.size()) +
                       " weights but the scores have " + std::to_string(c) + " classes");
    }
    probs_.resize(scores.shape());
    soft_targets_ = t.values;
    classes_ = c;
    rows_ = n;
    const double e = smoothing_;
    double total = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      const float* s = scores.data() + i * c;
      const float* q = t.values.data() + i * c;
      float* p = probs_.data() + i * c;
      const auto [max, sum] = softmax_exponentials<float>(s, c, p);
      const float log_sum = static_cast<float>(std::log(sum));
      for (std::int64_t k = 0; k < c; ++k) {
        const double qk = (1 - e) * q[k] + e / static_cast<double>(c);
        if (qk != 0) total -= weight(k) * qk * static_cast<double>(s[k] - max - log_sum);
      }
      const float inv = static_cast<float>(1.0 / sum);
      for (std::int64_t k = 0; k < c; ++k) p[k] *= inv;
    }
    return static_cast<float>(total / static_cast<double>(n));
  }

  bool soft_ = false;
  std::span<const float> soft_targets_;
  std::vector<double> weights_;
  double smoothing_ = 0;
  Tensor probs_;
  std::span<const std::int32_t> labels_;
  std::int64_t classes_ = 0, rows_ = 0;
  double weight_sum_ = 0, row_weight_total_ = 0;
};

void register_types(Registrar& r) {
  r.add<Loss>("softmax_cross_entropy",
              "softmax followed by cross-entropy, computed stably (log-sum-exp); a class per sample or per position, or "
              "class probabilities (soft targets, as mixup makes)",
              {Key::numbers("class_weights",
                            "a weight per class (PyTorch's `weight`): a sample counts as its class's weight, the "
                            "mean divides by the batch's total weight (default: every class 1)")
                   .at_least(0),
               Key::number("label_smoothing",
                           "e: the target puts 1 - e on the label and spreads e over all classes (Szegedy et al. "
                           "2016; PyTorch's `label_smoothing`)")
                   .def(0.0)
                   .at_least(0)
                   .below(1)},
              [](const Config& c) {
                return std::make_unique<SoftmaxCrossEntropy>(c.numbers("class_weights"), c.get<double>("label_smoothing"));
              });
}

}  // namespace lamina_softmax_ce

LAMINA_PLUGIN("softmax_ce", LAMINA_VERSION_STRING, "Softmax cross-entropy loss", lamina_softmax_ce::register_types)
