// Momentum SGD (Polyak 1964; the book's form):
//   v <- m * v - lr * g
//   W <- W + v
// Defaults lr 0.01, momentum 0.9. v starts at zero for each parameter, keyed by its name.
#include <lamina/eigen.hpp>
#include <lamina/error.hpp>
#include <lamina/optimizer.hpp>
#include <lamina/plugin.hpp>
#include <lamina/slots.hpp>

namespace lamina_momentum {

using namespace lamina;

class Momentum final : public Optimizer {
 public:
  explicit Momentum(const Config& c) : lr_(c.get<float>("lr")), m_(c.get<float>("momentum")) {}

  void step(std::span<Param* const> params) override {
    const float lr = lr_ * lr_scale();
    for (Param* p : params) {
      const float lr_p = lr * p->lr_mult;  // the tensor's own rate (lamina/param.hpp)
      auto v = array(velocity_.get(*p));
      v = m_ * v - lr_p * array(p->grad);
      array(p->value) += v;
    }
  }

  void save_state(std::vector<Buffer>& out) const override { velocity_.save("v", out); }
  void load_state(std::span<const Buffer> state) override { load_slots(state, {{&velocity_, "v"}}); }

 private:
  float lr_, m_;
  Slots velocity_;
};

void register_types(Registrar& r) {
  r.add<Optimizer>("momentum", "SGD with momentum: v = m*v - lr*g; W += v",
                   {Key::number("lr", "learning rate").def(0.01).above(0),
                    Key::number("momentum", "weight m of the previous velocity").def(0.9).at_least(0).below(1)},
                   [](const Config& c) { return std::make_unique<Momentum>(c); });
}

}  // namespace lamina_momentum

LAMINA_PLUGIN("momentum", LAMINA_VERSION_STRING, "Momentum SGD", lamina_momentum::register_types)
