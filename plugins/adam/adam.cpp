// Adam (Kingma & Ba 2014, arXiv:1412.6980), the book's form, with the bias correction
// folded into the step size:
//   t <- t + 1;  lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t)
//   m <- m + (1 - b1)*(g - m);  v <- v + (1 - b2)*(g*g - v)
//   W <- W - lr_t * m / (sqrt(v) + eps)
// Defaults lr 0.001, beta1 0.9, beta2 0.999, eps 1e-7 (the text's; PyTorch uses 1e-8).
//
// AdamW (Loshchilov & Hutter 2017, arXiv:1711.05101) decouples weight decay from the
// gradient: before the Adam step, W <- W - lr * weight_decay * W, on the parameters marked for
// decay only (weights, not biases or BatchNorm's gamma/beta), as PyTorch's AdamW does with
// parameter groups. Compare with coupled L2 (`regularizer: l2` + `adam`) by editing the YAML.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <lamina/eigen.hpp>
#include <lamina/error.hpp>
#include <lamina/optimizer.hpp>
#include <lamina/plugin.hpp>
#include <lamina/slots.hpp>

namespace lamina_adam {

using namespace lamina;

class Adam final : public Optimizer {
 public:
  Adam(const Config& c, float weight_decay)
      : lr_(c.get<float>("lr")),
        b1_(c.get<float>("beta1")),
        b2_(c.get<float>("beta2")),
        eps_(c.get<float>("eps")),
        weight_decay_(weight_decay) {}

  void step(std::span<Param* const> params) override {
    const float lr = lr_ * lr_scale();
    ++t_;
    const double t = static_cast<double>(t_);
    const auto lr_t = static_cast<float>(lr * std::sqrt(1.0 - std::pow(b2_, t)) / (1.0 - std::pow(b1_, t)));
    for (Param* p : params) {
      const bool decay = weight_decay_ > 0 && p->decay;
      // The tensor's own rates (lamina/param.hpp): its step scaled by lr_mult, its decoupled
      // decay by decay_mult too.
      const float lr_p = lr * p->lr_mult, lr_t_p = lr_t * p->lr_mult, decay_p = weight_decay_ * p->decay_mult;
      float* w = p->value.data();
      float* m = first_.get(*p).data();
      float* v = second_.get(*p).data();
      const float* g = p->grad.data();
      // Blocks small enough that w, g, m and v stay in the L1 cache across the three
      // vectorized passes: one trip through memory per step instead of three.
      constexpr std::int64_t kBlock = 1024;
      for (std::int64_t begin = 0, n = p->value.size(); begin < n; begin += kBlock) {
        const std::int64_t len = std::min(kBlock, n - begin);
        Eigen::Map<Eigen::ArrayXf> W(w + begin, len), M(m + begin, len), V(v + begin, len);
        Eigen::Map<const Eigen::ArrayXf> G(g + begin, len);
        if (decay) W -= lr_p * decay_p * W;
        M += (1 - b1_) * (G - M);
        V += (1 - b2_) * (G.square() - V);
        W -= lr_t_p * M / (V.sqrt() + eps_);
      }
    }
  }

  void save_state(std::vector<Buffer>& out) const override {
    first_.save("m", out);
    second_.save("v", out);
    Tensor t(Shape{1});
    t[0] = static_cast<float>(t_);  // exact up to 2^24 steps
    out.push_back({"step", std::move(t)});
  }
  void load_state(std::span<const Buffer> state) override {
    load_slots(state, {{&first_, "m"}, {&second_, "v"}}, [&](const Buffer& b) {
      if (b.name != "step" || b.value.size() != 1) return false;
      t_ = static_cast<long long>(b.value[0]);
      return true;
    });
  }

 private:
  float lr_, b1_, b2_, eps_, weight_decay_;
  long long t_ = 0;
  Slots first_, second_;
};

Schema adam_keys() {
  return {Key::number("lr", "learning rate").def(0.001).above(0),
          Key::number("beta1", "decay of the first-moment average").def(0.9).at_least(0).below(1),
          Key::number("beta2", "decay of the second-moment average").def(0.999).at_least(0).below(1),
          Key::number("eps", "added to sqrt(v) against division by zero").def(1e-7).above(0)};
}

void register_types(Registrar& r) {
  r.add<Optimizer>("adam", "Adam with bias correction folded into the step size", adam_keys(),
                   [](const Config& c) { return std::make_unique<Adam>(c, 0.0f); });
  Schema w = adam_keys();
  w.push_back(Key::number("weight_decay", "decoupled decay: W -= lr*weight_decay*W on decayed params each step")
                  .def(0.01)
                  .at_least(0));
  r.add<Optimizer>("adamw", "Adam with decoupled weight decay (Loshchilov & Hutter)", std::move(w),
                   [](const Config& c) { return std::make_unique<Adam>(c, c.get<float>("weight_decay")); });
}

}  // namespace lamina_adam

LAMINA_PLUGIN("adam", LAMINA_VERSION_STRING, "Adam and AdamW", lamina_adam::register_types)
