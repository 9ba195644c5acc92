// Dropout (Srivastava et al. 2014, JMLR 15; Hinton et al. 2012, arXiv:1207.0580).
// In training each unit is dropped with probability `ratio` (a new mask every forward, drawn
// from the run's seeded stream, reused by backward):
//   inverted (default):  y = x * mask / (1 - ratio)  in training,  y = x          in eval
//   scale_at_eval:       y = x * mask                in training,  y = x*(1-ratio) in eval
// scale_at_eval is the book's form; inverted is what PyTorch and Keras do: the expected
// activation is the same in both modes and eval costs nothing.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <lamina/eigen.hpp>
#include <lamina/layer.hpp>
#include <lamina/onnx.hpp>
#include <lamina/plugin.hpp>
#include <string>
#include <vector>

namespace lamina_dropout {

using namespace lamina;

class Dropout final : public Layer, public OnnxExportable {
 public:
  explicit Dropout(const Config& c)
      : ratio_(c.get<float>("ratio")), inverted_(c.get<std::string>("variant") == "inverted") {}

  Shape build(const Shape& input, BuildContext&) override { return input; }

  void forward(const Tensor& x, Tensor& y, Context& ctx) override {
    y.resize(x.shape());
    mode_ = ctx.mode;
    if (ctx.mode == Mode::Eval) {
      array(y) = array(x) * eval_scale();
      return;
    }
    // mask_ holds the factor of each unit: 0 if dropped, else the kept scale.
    mask_.resize(x.shape());
    const float keep = inverted_ ? 1.0f / (1.0f - ratio_) : 1.0f;
    // Four 16-bit draws per 64-bit word of the stream: a unit is dropped when its draw is below
    // ratio * 2^16, so `ratio` acts at a resolution of 2^-16 (0.2 drops with p = 0.19999695).
    // The words are drawn first, then read as 16-bit lanes (little-endian: the low lane first)
    // in one loop that makes the mask and the output together and vectorizes; a call of the
    // engine per unit cost more than the rest of the layer.
    static_assert(std::endian::native == std::endian::little, "the lanes are read low 16 bits first");
    const auto threshold = static_cast<std::uint32_t>(std::lround(static_cast<double>(ratio_) * 65536.0));
    const std::int64_t n = mask_.size();
    const auto words = static_cast<std::size_t>((n + 3) / 4);
    draws_.resize(words * 4);
    for (std::size_t w = 0; w < words; ++w) {
      const std::uint64_t bits = ctx.rng->next();
      std::memcpy(draws_.data() + 4 * w, &bits, sizeof bits);
    }
    const std::uint16_t* d = draws_.data();
    const float* in = x.data();
    float* m = mask_.data();
    float* out = y.data();
    for (std::int64_t k = 0; k < n; ++k) m[k] = d[k] >= threshold ? keep : 0.0f;
    for (std::int64_t k = 0; k < n; ++k) out[k] = in[k] * m[k];
  }

  void backward(const Tensor& dy, Tensor& dx, Context& ctx) override {
    if (!ctx.need_input_grad) return;
    dx.resize(dy.shape());
    if (mode_ == Mode::Eval) {
      array(dx) = array(dy) * eval_scale();
    } else {
      array(dx) = array(dy) * array(mask_);
    }
  }

  // Inference: the identity (inverted), or a Mul by 1 - ratio (scale_at_eval).
  std::string export_onnx(OnnxGraph& g, std::span<const OnnxValue> in) const override {
    if (eval_scale() == 1.0f) return in[0].name;
    Tensor scale(Shape{1});
    scale[0] = eval_scale();
    return g.node("Mul", {in[0].name, g.constant("eval_scale", scale)});
  }

 private:
  float eval_scale() const { return inverted_ ? 1.0f : 1.0f - ratio_; }

  float ratio_;
  bool inverted_;
  Mode mode_ = Mode::Train;
  Tensor mask_;
  std::vector<std::uint16_t> draws_;  // the stream's words as 16-bit lanes, reused every batch
};

void register_types(Registrar& r) {
  r.add<Layer>("dropout", "drops units with probability ratio in training (inverted by default)",
               {Key::number("ratio", "probability of dropping a unit").def(0.5).at_least(0).below(1),
                Key::string("variant",
                            "inverted: scale kept units by 1/(1-ratio) in training; scale_at_eval: "
                            "the book's form, outputs times (1-ratio) in eval")
                    .def("inverted")
                    .one_of({"inverted", "scale_at_eval"})},
               [](const Config& c) { return std::make_unique<Dropout>(c); });
}

}  // namespace lamina_dropout

LAMINA_PLUGIN("dropout", LAMINA_VERSION_STRING, "Dropout", lamina_dropout::register_types)
