// flatten: a sample of any shape, (C, H, W) or (D1, D2), becomes one vector of its elements in
// row-major order, as Keras's Flatten and PyTorch's nn.Flatten(start_dim=1) do. Tensors are
// row-major already, so the values are copied as they are; only the shape changes.
#include <lamina/layer.hpp>
#include <lamina/onnx.hpp>
#include <lamina/plugin.hpp>

#include <algorithm>
#include <memory>

namespace {

class Flatten final : public lamina::Layer, public lamina::OnnxExportable {
 public:
  lamina::Shape build(const lamina::Shape& input, lamina::BuildContext&) override {
    in_ = input;
    return lamina::Shape{input.numel()};
  }
  void forward(const lamina::Tensor& x, lamina::Tensor& y, lamina::Context&) override {
    y.resize(lamina::Shape{x.rows(), in_.numel()});
    std::copy(x.data(), x.data() + x.size(), y.data());
  }
  void backward(const lamina::Tensor& dy, lamina::Tensor& dx, lamina::Context& ctx) override {
    if (!ctx.need_input_grad) return;
    dx.resize(in_.batched(dy.rows()));
    std::copy(dy.data(), dy.data() + dy.size(), dx.data());
  }
  std::string export_onnx(lamina::OnnxGraph& g, std::span<const lamina::OnnxValue> in) const override {
    return g.node("Flatten", {in[0].name}, {{"axis", std::int64_t{1}}});  // axis 1: the batch stays
  }

 private:
  lamina::Shape in_;
};

void register_types(lamina::Registrar& r) {
  r.add<lamina::Layer>("flatten", "a sample of any shape as one vector, row-major: (C, H, W) -> (C*H*W)", {},
                       [](const lamina::Config&) { return std::make_unique<Flatten>(); });
}

}  // namespace

LAMINA_PLUGIN("flatten", LAMINA_VERSION_STRING, "Flatten: any sample shape to one vector", register_types)
