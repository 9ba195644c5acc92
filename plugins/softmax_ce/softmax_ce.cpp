// Softmax with cross-entropy, the classification loss:
//   log p_ic = s_ic - max_c s_i - log sum_c exp(s_ic - max_c s_i)     (stable log-sum-exp)
//   L = -1/N sum_i log p_i,label(i)
//   dL/ds_ic = (p_ic - [c == label(i)]) / N
// Subtracting the row maximum keeps exp() from overflowing for large scores; computing log p
// directly (not log of p) keeps a confidently wrong sample from giving log(0) = -inf.
#include <algorithm>
#include <cmath>
#include <string>

#include <lamina/eigen.hpp>
#include <lamina/error.hpp>
#include <lamina/loss.hpp>
#include <lamina/plugin.hpp>
#include <lamina/softmax.hpp>

namespace lamina_softmax_ce {

using namespace lamina;

class SoftmaxCrossEntropy final : public Loss {
 public:
  float forward(const Tensor& scores, std::span<const std::int32_t> labels) override {
    const std::int64_t n = scores.rows(), c = scores.cols();
    if (static_cast<std::int64_t>(labels.size()) != n) {
      throw Error("softmax_cross_entropy: " + std::to_string(n) + " rows of scores but " +
                  std::to_string(labels.size()) + " labels");
    }
    probs_.resize(Shape{n, c});
    labels_ = labels;
    double total = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      const float* s = scores.data() + i * c;
      float* p = probs_.data() + i * c;
      const auto [max, sum] = softmax_exponentials<float>(s, c, p);
      const float log_sum = static_cast<float>(std::log(sum));
      const auto label = labels[static_cast<std::size_t>(i)];
      if (label < 0 || label >= c) {
        throw Error("softmax_cross_entropy: label " + std::to_string(label) + " is outside the " + std::to_string(c) +
                    " classes of the scores");
      }
      total -= static_cast<double>(s[label] - max - log_sum);
      const float inv = static_cast<float>(1.0 / sum);
      for (std::int64_t j = 0; j < c; ++j) p[j] *= inv;
    }
    return static_cast<float>(total / static_cast<double>(n));
  }

  void backward(Tensor& dscores) override {
    const std::int64_t n = probs_.rows(), c = probs_.cols();
    dscores.resize(probs_.shape());
    const float inv_n = 1.0f / static_cast<float>(n);
    array(dscores) = array(probs_) * inv_n;
    for (std::int64_t i = 0; i < n; ++i) dscores[i * c + labels_[static_cast<std::size_t>(i)]] -= inv_n;
  }

 private:
  Tensor probs_;
  std::span<const std::int32_t> labels_;
};

void register_types(Registrar& r) {
  r.add<Loss>("softmax_cross_entropy", "softmax followed by cross-entropy, computed stably (log-sum-exp)", {},
              [](const Config&) { return std::make_unique<SoftmaxCrossEntropy>(); });
}

}  // namespace lamina_softmax_ce

LAMINA_PLUGIN("softmax_ce", LAMINA_VERSION_STRING, "Softmax cross-entropy loss", lamina_softmax_ce::register_types)
