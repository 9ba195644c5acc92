// LeakyReLU (Maas, Hannun & Ng 2013): y = x if x > 0 else slope * x;
// backward dx = dy if x > 0 else slope * dy. A third-party layer: it includes only <lamina/...>
// headers and links only lamina::core. It exports itself to ONNX (`lamina export`) as ONNX's own
// LeakyRelu, by also deriving from lamina::OnnxExportable.
#include <lamina/eigen.hpp>
#include <lamina/layer.hpp>
#include <lamina/onnx.hpp>
#include <lamina/plugin.hpp>

namespace leaky_relu {

class LeakyRelu final : public lamina::Layer, public lamina::OnnxExportable {
 public:
  explicit LeakyRelu(const lamina::Config& c) : slope_(c.get<float>("slope")) {}

  lamina::Shape build(const lamina::Shape& input, lamina::BuildContext&) override { return input; }

  void forward(const lamina::Tensor& x, lamina::Tensor& y, lamina::Context&) override {
    x_ = &x;
    y.resize(x.shape());
    lamina::array(y) = (lamina::array(x) > 0.0f).select(lamina::array(x), slope_ * lamina::array(x));
  }

  void backward(const lamina::Tensor& dy, lamina::Tensor& dx, lamina::Context& ctx) override {
    if (!ctx.need_input_grad) return;
    dx.resize(dy.shape());
    lamina::array(dx) = (lamina::array(*x_) > 0.0f).select(lamina::array(dy), slope_ * lamina::array(dy));
  }

  std::string export_onnx(lamina::OnnxGraph& g, std::span<const lamina::OnnxValue> in) const override {
    return g.node("LeakyRelu", {in[0].name}, {{"alpha", slope_}});
  }

 private:
  float slope_;
  const lamina::Tensor* x_ = nullptr;
};

void register_types(lamina::Registrar& r) {
  r.add<lamina::Layer>("leaky_relu", "leaky rectifier y = max(x, slope*x)",
                       {lamina::Key::number("slope", "the slope for x < 0").def(0.01).at_least(0).below(1)},
                       [](const lamina::Config& c) { return std::make_unique<LeakyRelu>(c); });
}

}  // namespace leaky_relu

LAMINA_PLUGIN("leaky_relu", "1.0.0", "LeakyReLU activation (example plugin)", leaky_relu::register_types)
