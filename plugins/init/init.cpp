// Weight initializers (biases are zero and not theirs to set). All draw from a zero-mean normal:
//   normal: std given (the book's "weight_init_std", 0.01 by default)
//   xavier: std = sqrt(1 / fan_in)   — the book's form (Glorot & Bengio 2010 use
//           sqrt(2 / (fan_in + fan_out)); the book simplifies)
//   he:     std = sqrt(2 / fan_in)   — He et al. 2015 (arXiv:1502.01852), for ReLU networks
#include <cmath>

#include <lamina/initializer.hpp>
#include <lamina/plugin.hpp>

namespace lamina_init {

using namespace lamina;

class Normal final : public Initializer {
 public:
  // gain = 0: a fixed std; otherwise std = sqrt(gain / fan_in).
  Normal(float std, float gain) : std_(std), gain_(gain) {}

  void fill(Tensor& w, std::int64_t fan_in, std::int64_t, Rng& rng) const override {
    const float std = gain_ > 0 ? std::sqrt(gain_ / static_cast<float>(fan_in)) : std_;
    for (auto& v : w.values()) v = rng.normal(0.0f, std);
  }

 private:
  float std_;
  float gain_;
};

void register_types(Registrar& r) {
  r.add<Initializer>("normal", "normal with a fixed std",
                     {Key::number("std", "standard deviation").def(0.01).above(0).at_most(1e3)},
                     [](const Config& c) { return std::make_unique<Normal>(c.get<float>("std"), 0.0f); });
  r.add<Initializer>("xavier", "normal with std sqrt(1/fan_in) (the book's Xavier)", {},
                     [](const Config&) { return std::make_unique<Normal>(0.0f, 1.0f); });
  r.add<Initializer>("he", "normal with std sqrt(2/fan_in) (He et al., for ReLU)", {},
                     [](const Config&) { return std::make_unique<Normal>(0.0f, 2.0f); });
}

}  // namespace lamina_init

LAMINA_PLUGIN("init", LAMINA_VERSION_STRING, "Weight initializers: normal, xavier, he", lamina_init::register_types)
