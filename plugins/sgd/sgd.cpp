// Stochastic gradient descent:  W <- W - lr * dL/dW   (lr 0.01 by default, as the book).
// Stateless, so there is nothing to key by parameter name. Each tensor's step is scaled by
// its lr_mult (lamina/param.hpp).
#include <lamina/eigen.hpp>
#include <lamina/optimizer.hpp>
#include <lamina/plugin.hpp>

namespace lamina_sgd {

using namespace lamina;

class Sgd final : public Optimizer {
 public:
  explicit Sgd(const Config& cfg) : lr_(cfg.get<float>("lr")) {}

  void step(std::span<Param* const> params) override {
    const float lr = lr_ * lr_scale();
    for (Param* p : params) array(p->value) -= (lr * p->lr_mult) * array(p->grad);
  }

 private:
  float lr_;
};

void register_types(Registrar& r) {
  r.add<Optimizer>("sgd", "stochastic gradient descent W -= lr * g",
                   {Key::number("lr", "learning rate").def(0.01).above(0)},
                   [](const Config& c) { return std::make_unique<Sgd>(c); });
}

}  // namespace lamina_sgd

LAMINA_PLUGIN("sgd", LAMINA_VERSION_STRING, "Stochastic gradient descent", lamina_sgd::register_types)
