// Brightness and contrast jitter (torchvision's ColorJitter, without hue and saturation): each
// training sample becomes (x - mean) * c + mean + b, with c drawn uniformly from
// [1 - contrast, 1 + contrast] and b from [-brightness, brightness], mean the sample's own.
// A third-party augmentation: it includes only <lamina/...> headers and links only lamina::core.
#include <lamina/augmentation.hpp>
#include <lamina/plugin.hpp>

namespace color_jitter {

class ColorJitter final : public lamina::Augmentation {
 public:
  explicit ColorJitter(const lamina::Config& c)
      : brightness_(c.get<float>("brightness")), contrast_(c.get<float>("contrast")) {}

  bool is_identity() const override { return brightness_ == 0 && contrast_ == 0; }

  // Serial and in place: the two numbers of a sample are drawn in sample order from the host's
  // stream, so a seed gives the same batches; nothing is allocated.
  void apply(lamina::Tensor& x, lamina::AugmentTargets&, lamina::Rng& rng) override {
    if (is_identity()) return;
    const std::int64_t n = x.rows(), d = x.cols();
    for (std::int64_t i = 0; i < n; ++i) {
      const float c = 1 + contrast_ * (2 * rng.uniform() - 1);
      const float b = brightness_ * (2 * rng.uniform() - 1);
      float* v = x.data() + i * d;
      double sum = 0;
      for (std::int64_t j = 0; j < d; ++j) sum += v[j];
      const auto mean = static_cast<float>(sum / static_cast<double>(d));
      for (std::int64_t j = 0; j < d; ++j) v[j] = (v[j] - mean) * c + mean + b;
    }
  }

 private:
  float brightness_, contrast_;
};

void register_types(lamina::Registrar& r) {
  r.add<lamina::Augmentation>(
      "color_jitter", "shifts each sample's values by a random brightness and scales them about their mean by a random contrast",
      {lamina::Key::number("brightness", "the largest shift, in scaled input units (0: none)").def(0.1).at_least(0).at_most(1e3),
       lamina::Key::number("contrast", "the largest relative change of contrast (0: none)").def(0.2).at_least(0).at_most(1)},
      [](const lamina::Config& c) { return std::make_unique<ColorJitter>(c); });
}

}  // namespace color_jitter

LAMINA_PLUGIN("color_jitter", "1.0.0", "Brightness and contrast jitter (example augmentation)", color_jitter::register_types)
