// Nesterov accelerated gradient, in the book's (and CS231n's) rearranged form, which
// needs only the gradient at the current weights (Sutskever et al. 2013, arXiv:1212.0901):
//   W <- W + m*m*v - (1 + m)*lr*g
//   v <- m*v - lr*g
// Defaults lr 0.01, momentum 0.9.
#include <lamina/eigen.hpp>
#include <lamina/error.hpp>
#include <lamina/optimizer.hpp>
#include <lamina/plugin.hpp>
#include <lamina/slots.hpp>

namespace lamina_nesterov {

using namespace lamina;

class Nesterov final : public Optimizer {
 public:
  explicit Nesterov(const Config& c) : lr_(c.get<float>("lr")), m_(c.get<float>("momentum")) {}

  void step(std::span<Param* const> params) override {
    const float lr = lr_ * lr_scale();
    for (Param* p : params) {
      const float lr_p = lr * p->lr_mult;  // the tensor's own rate (lamina/param.hpp)
      auto v = array(velocity_.get(*p));
      auto g = array(p->grad);
      array(p->value) += m_ * m_ * v - (1 + m_) * lr_p * g;
      v = m_ * v - lr_p * g;
    }
  }

  void save_state(std::vector<Buffer>& out) const override { velocity_.save("v", out); }
  void load_state(std::span<const Buffer> state) override { load_slots(state, {{&velocity_, "v"}}); }

 private:
  float lr_, m_;
  Slots velocity_;
};

void register_types(Registrar& r) {
  r.add<Optimizer>("nesterov", "Nesterov momentum: W += m*m*v - (1+m)*lr*g, then v = m*v - lr*g",
                   {Key::number("lr", "learning rate").def(0.01).above(0),
                    Key::number("momentum", "weight m of the previous velocity").def(0.9).at_least(0).below(1)},
                   [](const Config& c) { return std::make_unique<Nesterov>(c); });
}

}  // namespace lamina_nesterov

LAMINA_PLUGIN("nesterov", LAMINA_VERSION_STRING, "Nesterov accelerated gradient", lamina_nesterov::register_types)
