// RMSProp (Tieleman & Hinton 2012, lecture 6e), the book's form:
//   h <- decay*h + (1 - decay)*g*g
//   W <- W - lr * g / (sqrt(h) + eps)
// Defaults lr 0.01, decay 0.99, eps 1e-7.
#include <lamina/eigen.hpp>
#include <lamina/error.hpp>
#include <lamina/optimizer.hpp>
#include <lamina/plugin.hpp>
#include <lamina/slots.hpp>

namespace lamina_rmsprop {

using namespace lamina;

class RmsProp final : public Optimizer {
 public:
  explicit RmsProp(const Config& c)
      : lr_(c.get<float>("lr")), decay_(c.get<float>("decay")), eps_(c.get<float>("eps")) {}

  void step(std::span<Param* const> params) override {
    const float lr = lr_ * lr_scale();
    for (Param* p : params) {
      const float lr_p = lr * p->lr_mult;  // the tensor's own rate (lamina/param.hpp)
      auto h = array(squares_.get(*p));
      auto g = array(p->grad);
      h = decay_ * h + (1 - decay_) * g.square();
      array(p->value) -= lr_p * g / (h.sqrt() + eps_);
    }
  }

  void save_state(std::vector<Buffer>& out) const override { squares_.save("h", out); }
  void load_state(std::span<const Buffer> state) override { load_slots(state, {{&squares_, "h"}}); }

 private:
  float lr_, decay_, eps_;
  Slots squares_;
};

void register_types(Registrar& r) {
  r.add<Optimizer>("rmsprop", "RMSProp: h = decay*h + (1-decay)*g*g; W -= lr*g/(sqrt(h)+eps)",
                   {Key::number("lr", "learning rate").def(0.01).above(0),
                    Key::number("decay", "weight of the previous mean square").def(0.99).at_least(0).below(1),
                    Key::number("eps", "added to sqrt(h) against division by zero").def(1e-7).above(0)},
                   [](const Config& c) { return std::make_unique<RmsProp>(c); });
}

}  // namespace lamina_rmsprop

LAMINA_PLUGIN("rmsprop", LAMINA_VERSION_STRING, "RMSProp", lamina_rmsprop::register_types)
