// The attention plugin's two types, over the arithmetic of attention_core.hpp:
//   multi_head_attention  a layer: self-attention of a (T, D) sequence, optionally causal (each
//                         step attends to itself and the steps before it: a language model's);
//   cross_attention       a merge of two inputs: the queries' sequence (Tq, D), then the memory
//                         (Tk, D) whose steps are attended to (a decoder reading an encoder).
// Neither exports to ONNX yet: `lamina export` refuses them with the layer's name.
#include <lamina/layer.hpp>
#include <lamina/merge.hpp>
#include <lamina/plugin.hpp>

#include "attention_core.hpp"

namespace lamina_attention {

class SelfAttention final : public Layer {
 public:
  explicit SelfAttention(const Config& c)
      : core_(c.get<std::int64_t>("heads"), c.get<bool>("causal"), c.get<float>("dropout"), c.where()) {}
  Shape build(const Shape& input, BuildContext& ctx) override {
    return core_.build(input, input, *ctx.rng, "multi_head_attention");
  }
  void forward(const Tensor& x, Tensor& y, Context& ctx) override { core_.forward(x, x, y, ctx); }
  void backward(const Tensor& dy, Tensor& dx, Context& ctx) override {
    core_.backward(dy, &dx, nullptr, ctx.need_input_grad);
  }
  std::span<Param> params() override { return core_.params(); }

 private:
  AttentionCore core_;
};

class CrossAttention final : public Merge {
 public:
  explicit CrossAttention(const Config& c)
      : core_(c.get<std::int64_t>("heads"), false, c.get<float>("dropout"), c.where()), where_(c.where()) {}
  Shape build(std::span<const Shape> inputs, BuildContext& ctx) override {
    if (inputs.size() != 2) {
      throw InputError(where_ + ": cross_attention takes two inputs, the queries' sequence and the memory; got " +
                       std::to_string(inputs.size()));
    }
    return core_.build(inputs[0], inputs[1], *ctx.rng, "cross_attention");
  }
  void forward(std::span<const Tensor* const> xs, Tensor& y, Context& ctx) override {
    core_.forward(*xs[0], *xs[1], y, ctx);
  }
  void backward(const Tensor& dy, std::span<Tensor* const> dxs, Context& ctx) override {
    core_.backward(dy, dxs[0], dxs[1], ctx.need_input_grad);
  }
  std::span<Param> params() override { return core_.params(); }

 private:
  AttentionCore core_;
  std::string where_;
};

Schema keys(bool self) {
  Schema s{Key::integer("heads", "attention heads; each takes D / heads of the width").required().at_least(1).at_most(1024),
           Key::number("dropout", "probability of dropping an attention weight in training (inverted)")
               .def(0.0)
               .at_least(0)
               .below(1)};
  if (self) s.push_back(Key::boolean("causal", "each step attends only to itself and the steps before it").def(false));
  return s;
}

void register_types(Registrar& r) {
  r.add<Layer>("multi_head_attention", "multi-head scaled dot-product self-attention over a (T, D) sequence",
               keys(true), [](const Config& c) { return std::make_unique<SelfAttention>(c); });
  r.add<Merge>("cross_attention", "multi-head attention of a (Tq, D) query sequence over a (Tk, D) memory",
               keys(false), [](const Config& c) { return std::make_unique<CrossAttention>(c); });
}

}  // namespace lamina_attention

LAMINA_PLUGIN("attention", LAMINA_VERSION_STRING, "Multi-head attention: self and cross", lamina_attention::register_types)
