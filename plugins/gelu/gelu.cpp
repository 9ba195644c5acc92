// GELU (Hendrycks & Gimpel 2016, arXiv:1606.08415), element-wise:
//   none (exact):  y = x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2))
//                  dy/dx = Phi(x) + x * phi(x),  phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
//   tanh:          y = 0.5 x (1 + tanh(u)),  u = sqrt(2 / pi) (x + 0.044715 x^3)   (GPT-2's)
//                  dy/dx = 0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) sqrt(2 / pi) (1 + 3 * 0.044715 x^2)
// PyTorch's nn.GELU(approximate='none'|'tanh'). Backward needs x, kept from forward (alive until
// backward, the Layer contract). ONNX: opset 13 has no Gelu (it came in 20), so it is written with
// Erf (exact) or Tanh (approximate) and arithmetic.
#include <cmath>
#include <lamina/eigen.hpp>
#include <lamina/layer.hpp>
#include <lamina/onnx.hpp>
#include <lamina/parallel.hpp>
#include <lamina/plugin.hpp>

namespace lamina_gelu {

using namespace lamina;

constexpr float kInvSqrt2 = 0.70710678118654752f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;
constexpr float kSqrt2OverPi = 0.79788456080286536f;
constexpr float kCubic = 0.044715f;

Tensor scalar(float v) {
  Tensor t(Shape{1});
  t[0] = v;
  return t;
}

class Gelu final : public Layer, public OnnxExportable {
 public:
  explicit Gelu(const Config& c) : tanh_(c.get<std::string>("approximate") == "tanh") {}

  Shape build(const Shape& input, BuildContext&) override { return input; }

  void forward(const Tensor& x, Tensor& y, Context&) override {
    x_ = &x;
    y.resize(x.shape());
    const float* in = x.data();
    float* out = y.data();
    const std::int64_t n = x.size();
    for_ranges(n, threads_for(n >> 16), 16, [&](int, std::int64_t b, std::int64_t e) {
      for (std::int64_t i = b; i < e; ++i) {
        const float v = in[i];
        out[i] = tanh_ ? 0.5f * v * (1.0f + std::tanh(kSqrt2OverPi * (v + kCubic * v * v * v)))
                       : 0.5f * v * (1.0f + std::erf(v * kInvSqrt2));
      }
    });
  }

  void backward(const Tensor& dy, Tensor& dx, Context& ctx) override {
    if (!ctx.need_input_grad) return;
    dx.resize(dy.shape());
    const float* in = x_->data();
    const float* g = dy.data();
    float* out = dx.data();
    const std::int64_t n = dy.size();
    for_ranges(n, threads_for(n >> 16), 16, [&](int, std::int64_t b, std::int64_t e) {
      for (std::int64_t i = b; i < e; ++i) {
        const float v = in[i];
        float d;
        if (tanh_) {
          const float t = std::tanh(kSqrt2OverPi * (v + kCubic * v * v * v));
          d = 0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * kSqrt2OverPi * (1.0f + 3.0f * kCubic * v * v);
        } else {
          d = 0.5f * (1.0f + std::erf(v * kInvSqrt2)) + v * kInvSqrt2Pi * std::exp(-0.5f * v * v);
        }
        out[i] = g[i] * d;
      }
    });
  }

  std::string export_onnx(OnnxGraph& g, std::span<const OnnxValue> in) const override {
    const std::string& x = in[0].name;
    std::string inner;
    if (tanh_) {
      const std::string cube = g.node("Mul", {g.node("Mul", {x, x}), x});
      const std::string u = g.node("Mul", {g.node("Add", {x, g.node("Mul", {cube, g.constant("cubic", scalar(kCubic))})}),
                                           g.constant("sqrt_2_over_pi", scalar(kSqrt2OverPi))});
      inner = g.node("Tanh", {u});
    } else {
      inner = g.node("Erf", {g.node("Mul", {x, g.constant("inv_sqrt2", scalar(kInvSqrt2))})});
    }
    const std::string one_plus = g.node("Add", {inner, g.constant("one", scalar(1.0f))});
    return g.node("Mul", {g.node("Mul", {x, one_plus}), g.constant("half", scalar(0.5f))});
  }

 private:
  bool tanh_;
  const Tensor* x_ = nullptr;
};

void register_types(Registrar& r) {
  r.add<Layer>("gelu", "Gaussian error linear unit y = x * Phi(x) (Hendrycks & Gimpel 2016)",
               {Key::string("approximate", "none: the exact erf form; tanh: GPT-2's tanh approximation")
                    .def("none")
                    .one_of({"none", "tanh"})},
               [](const Config& c) { return std::make_unique<Gelu>(c); });
}

}  // namespace lamina_gelu

LAMINA_PLUGIN("gelu", LAMINA_VERSION_STRING, "GELU activation (exact and tanh forms)", lamina_gelu::register_types)
