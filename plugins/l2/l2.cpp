// L2 weight decay (the book's "weight decay"):
//   penalty = 0.5 * lambda * sum W^2      gradient = lambda * W
// on every parameter marked `decay` (weight matrices, the output layer's too; never biases or
// BatchNorm's gamma/beta). lambda defaults to 1e-4; the text's overfitting experiment uses 0.1.
#include <lamina/eigen.hpp>
#include <lamina/plugin.hpp>
#include <lamina/regularizer.hpp>

namespace lamina_l2 {

using namespace lamina;

class L2 final : public Regularizer {
 public:
  explicit L2(const Config& c) : lambda_(c.get<float>("lambda")) {}
  float penalty(const Param& p) const override {
    return 0.5f * lambda_ * p.decay_mult * static_cast<float>(array(p.value).cast<double>().square().sum());
  }
  void add_gradient(Param& p) const override { array(p.grad) += (lambda_ * p.decay_mult) * array(p.value); }

 private:
  float lambda_;
};

void register_types(Registrar& r) {
  r.add<Regularizer>("l2", "L2 weight decay: 0.5*lambda*sum W^2, gradient lambda*W",
                     {Key::number("lambda", "strength").def(1e-4).at_least(0)},
                     [](const Config& c) { return std::make_unique<L2>(c); });
}

}  // namespace lamina_l2

LAMINA_PLUGIN("l2", LAMINA_VERSION_STRING, "L2 weight decay", lamina_l2::register_types)
