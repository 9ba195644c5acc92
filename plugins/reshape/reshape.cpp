// reshape: the same values, row-major, as a sample of another shape: `shape: [28, 28]` makes
// a (1, 28, 28) Fashion-MNIST image a sequence of 28 rows of 28 pixels (issue 32's row-sequential
// task); one size may be -1, inferred from the others. PyTorch's x.view(N, *shape); ONNX Reshape
// with the batch kept (0).
#include <lamina/layer.hpp>
#include <lamina/onnx.hpp>
#include <lamina/plugin.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace lamina_reshape {

using namespace lamina;

class Reshape final : public Layer, public OnnxExportable {
 public:
  explicit Reshape(const Config& c) : where_(c.where()) {
    for (const double v : c.numbers("shape")) {
      if (v != std::floor(v) || (v < 1 && v != -1)) {
        char text[32];
        std::snprintf(text, sizeof text, "%g", v);
        throw InputError(where_ + ": reshape: shape holds " + text + "; sizes are integers >= 1, or -1 once");
      }
      dims_.push_back(static_cast<std::int64_t>(v));
    }
    if (std::count(dims_.begin(), dims_.end(), -1) > 1) throw InputError(where_ + ": reshape: shape has more than one -1");
    if (dims_.size() > static_cast<std::size_t>(Shape::kMaxRank)) {
      throw InputError(where_ + ": reshape: shape has " + std::to_string(dims_.size()) + " sizes; a sample has at most " +
                       std::to_string(Shape::kMaxRank));
    }
  }

  Shape build(const Shape& input, BuildContext&) override {
    in_ = input;
    std::vector<std::int64_t> dims = dims_;
    std::int64_t known = 1;
    for (const auto d : dims) known *= d == -1 ? 1 : d;
    const auto free = std::find(dims.begin(), dims.end(), -1);
    if (free != dims.end() && known > 0 && input.numel() % known == 0) *free = input.numel() / known;
    out_ = Shape::from(dims);
    if (free != dims.end() ? input.numel() % known != 0 : out_.numel() != input.numel()) {
      throw InputError(where_ + ": reshape: a sample of " + input.str() + " has " + std::to_string(input.numel()) +
                       " values, which do not make a sample of " + out_.str());
    }
    return out_;
  }
  void forward(const Tensor& x, Tensor& y, Context&) override {
    y.resize(out_.batched(x.rows()));
    std::copy(x.data(), x.data() + x.size(), y.data());
  }
  void backward(const Tensor& dy, Tensor& dx, Context& ctx) override {
    if (!ctx.need_input_grad) return;
    dx.resize(in_.batched(dy.rows()));
    std::copy(dy.data(), dy.data() + dy.size(), dx.data());
  }
  std::string export_onnx(OnnxGraph& g, std::span<const OnnxValue> in) const override {
    std::vector<std::int64_t> shape{0};  // 0: the batch's size, as it comes
    for (int i = 0; i < out_.rank(); ++i) shape.push_back(out_[i]);
    return g.node("Reshape", {in[0].name, g.constant_ints("shape", shape)});
  }

 private:
  std::string where_;
  std::vector<std::int64_t> dims_;
  Shape in_, out_;
};

void register_types(Registrar& r) {
  r.add<Layer>("reshape", "the same values, row-major, as a sample of another shape ([28, 28]: an image as 28 rows)",
               {Key::numbers("shape", "the sample's new sizes, e.g. [28, 28]; one may be -1 (inferred)").required()},
               [](const Config& c) { return std::make_unique<Reshape>(c); });
}

}  // namespace lamina_reshape

LAMINA_PLUGIN("reshape", LAMINA_VERSION_STRING, "Reshape a sample", lamina_reshape::register_types)
