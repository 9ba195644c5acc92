// L1 penalty (lasso):
//   penalty = lambda * sum |W|      gradient = lambda * sign(W)   (0 at W = 0, a subgradient)
// on every parameter marked `decay`. lambda defaults to 1e-5.
#include <lamina/eigen.hpp>
#include <lamina/plugin.hpp>
#include <lamina/regularizer.hpp>

namespace lamina_l1 {

using namespace lamina;

class L1 final : public Regularizer {
 public:
  explicit L1(const Config& c) : lambda_(c.get<float>("lambda")) {}
  float penalty(const Param& p) const override {
    return lambda_ * p.decay_mult * static_cast<float>(array(p.value).cast<double>().abs().sum());
  }
  void add_gradient(Param& p) const override { array(p.grad) += (lambda_ * p.decay_mult) * array(p.value).sign(); }

 private:
  float lambda_;
};

void register_types(Registrar& r) {
  r.add<Regularizer>("l1", "L1 penalty: lambda*sum |W|, gradient lambda*sign(W)",
                     {Key::number("lambda", "strength").def(1e-5).at_least(0)},
                     [](const Config& c) { return std::make_unique<L1>(c); });
}

}  // namespace lamina_l1

LAMINA_PLUGIN("l1", LAMINA_VERSION_STRING, "L1 penalty", lamina_l1::register_types)
