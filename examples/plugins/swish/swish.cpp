// Swish, y = x * sigmoid(beta * x): examples/python_layer/swish.py line for line in C++, the
// port docs/python.md walks through. What changed from Python:
//   __init__(beta)   -> the constructor reads the key its Schema declares (so a typo in the
//                       model file is refused with "did you mean" before anything runs);
//   self.x, self.s   -> members; x stays alive until backward (the Layer contract), so a pointer
//                       suffices, and s is a tensor resized in place (no allocation per batch);
//   NumPy arithmetic -> Eigen arrays over the tensors (lamina::array).
#include <lamina/eigen.hpp>
#include <lamina/layer.hpp>
#include <lamina/plugin.hpp>

namespace swish {

class Swish final : public lamina::Layer {
 public:
  explicit Swish(const lamina::Config& c) : beta_(c.get<float>("beta")) {}

  lamina::Shape build(const lamina::Shape& input, lamina::BuildContext&) override { return input; }

  void forward(const lamina::Tensor& x, lamina::Tensor& y, lamina::Context&) override {
    x_ = &x;
    s_.resize(x.shape());
    y.resize(x.shape());
    lamina::array(s_) = 1.0f / (1.0f + (-beta_ * lamina::array(x)).exp());
    lamina::array(y) = lamina::array(x) * lamina::array(s_);
  }

  void backward(const lamina::Tensor& dy, lamina::Tensor& dx, lamina::Context& ctx) override {
    if (!ctx.need_input_grad) return;
    dx.resize(dy.shape());
    const auto s = lamina::array(s_);
    lamina::array(dx) = lamina::array(dy) * (s + beta_ * lamina::array(*x_) * s * (1.0f - s));
  }

 private:
  float beta_;
  const lamina::Tensor* x_ = nullptr;
  lamina::Tensor s_;
};

void register_types(lamina::Registrar& r) {
  r.add<lamina::Layer>("swish", "Swish y = x * sigmoid(beta * x) (Ramachandran et al. 2017)",
                       {lamina::Key::number("beta", "the sigmoid's slope").def(1.0).above(0)},
                       [](const lamina::Config& c) { return std::make_unique<Swish>(c); });
}

}  // namespace swish

LAMINA_PLUGIN("swish", "1.0.0", "Swish activation, ported from examples/python_layer/swish.py", swish::register_types)
