// AdaGrad (Duchi, Hazan & Singer 2011), the book's form:
//   h <- h + g*g
//   W <- W - lr * g / (sqrt(h) + eps)
// Defaults lr 0.01, eps 1e-7. h starts at zero for each parameter, keyed by its name.
#include <lamina/eigen.hpp>
#include <lamina/error.hpp>
#include <lamina/optimizer.hpp>
#include <lamina/plugin.hpp>
#include <lamina/slots.hpp>

namespace lamina_adagrad {

using namespace lamina;

class AdaGrad final : public Optimizer {
 public:
  explicit AdaGrad(const Config& c) : lr_(c.get<float>("lr")), eps_(c.get<float>("eps")) {}

  void step(std::span<Param* const> params) override {
    const float lr = lr_ * lr_scale();
    for (Param* p : params) {
      const float lr_p = lr * p->lr_mult;  // the tensor's own rate (lamina/param.hpp)
      auto h = array(squares_.get(*p));
      auto g = array(p->grad);
      h += g.square();
      array(p->value) -= lr_p * g / (h.sqrt() + eps_);
    }
  }

  void save_state(std::vector<Buffer>& out) const override { squares_.save("h", out); }
  void load_state(std::span<const Buffer> state) override { load_slots(state, {{&squares_, "h"}}); }

 private:
  float lr_, eps_;
  Slots squares_;
};

void register_types(Registrar& r) {
  r.add<Optimizer>("adagrad", "AdaGrad: h += g*g; W -= lr*g/(sqrt(h)+eps)",
                   {Key::number("lr", "learning rate").def(0.01).above(0),
                    Key::number("eps", "added to sqrt(h) against division by zero").def(1e-7).above(0)},
                   [](const Config& c) { return std::make_unique<AdaGrad>(c); });
}

}  // namespace lamina_adagrad

LAMINA_PLUGIN("adagrad", LAMINA_VERSION_STRING, "AdaGrad", lamina_adagrad::register_types)
