// weighted_sum: y = sum_k w_k x_k over inputs of one shape, with one learnable weight per input
// (starting at 1: a plain sum) — a residual connection that learns how much of each branch to
// keep (like ReZero's scalar, Bachlechner et al. 2020). A third-party MERGE layer: it includes
// only <lamina/...> headers, declares its inputs through lamina::Merge, and has parameters.
//   backward: dx_k = w_k dy;  dw_k = sum over the batch of dy * x_k.
// ONNX export (lamina::OnnxExportable): Mul of each input by its weight, then Add, in order.
#include <lamina/error.hpp>
#include <lamina/merge.hpp>
#include <lamina/onnx.hpp>
#include <lamina/plugin.hpp>

#include <string>
#include <vector>

namespace weighted_sum {

class WeightedSum final : public lamina::Merge, public lamina::OnnxExportable {
 public:
  lamina::Shape build(std::span<const lamina::Shape> inputs, lamina::BuildContext&) override {
    if (inputs.size() < 2) throw lamina::InputError("weighted_sum needs at least two inputs");
    for (const auto& s : inputs) {
      if (s != inputs[0]) {
        throw lamina::InputError("weighted_sum needs inputs of one shape: " + inputs[0].str() + " and " + s.str());
      }
    }
    const auto k = static_cast<std::int64_t>(inputs.size());
    params_.clear();
    params_.push_back(lamina::Param{"w", lamina::Tensor(lamina::Shape{k}), lamina::Tensor(lamina::Shape{k}), false});
    params_[0].value.fill(1.0f);  // not decayed (decay=false above): a regularizer would pull it to 0
    return inputs[0];
  }

  void forward(std::span<const lamina::Tensor* const> xs, lamina::Tensor& y, lamina::Context&) override {
    xs_.assign(xs.begin(), xs.end());
    const lamina::Tensor& w = params_[0].value;
    y.resize(xs[0]->shape());
    y.fill(0.0f);
    for (std::size_t k = 0; k < xs.size(); ++k) {
      const float wk = w[static_cast<std::int64_t>(k)];
      for (std::int64_t i = 0; i < y.size(); ++i) y[i] += wk * (*xs[k])[i];
    }
  }

  void backward(const lamina::Tensor& dy, std::span<lamina::Tensor* const> dxs, lamina::Context& ctx) override {
    lamina::Param& w = params_[0];
    for (std::size_t k = 0; k < xs_.size(); ++k) {
      double g = 0;
      for (std::int64_t i = 0; i < dy.size(); ++i) g += static_cast<double>(dy[i]) * (*xs_[k])[i];
      w.grad[static_cast<std::int64_t>(k)] = static_cast<float>(g);
      if (!ctx.need_input_grad) continue;
      const float wk = w.value[static_cast<std::int64_t>(k)];
      dxs[k]->resize(dy.shape());
      for (std::int64_t i = 0; i < dy.size(); ++i) (*dxs[k])[i] = wk * dy[i];
    }
  }

  std::span<lamina::Param> params() override { return params_; }

  std::string export_onnx(lamina::OnnxGraph& g, std::span<const lamina::OnnxValue> in) const override {
    std::string sum;
    for (std::size_t k = 0; k < in.size(); ++k) {
      lamina::Tensor wk(lamina::Shape{1});
      wk[0] = params_[0].value[static_cast<std::int64_t>(k)];
      const std::string term = g.node("Mul", {in[k].name, g.constant("w" + std::to_string(k), wk)});
      sum = k == 0 ? term : g.node("Add", {sum, term});
    }
    return sum;
  }

 private:
  std::vector<lamina::Param> params_;
  std::vector<const lamina::Tensor*> xs_;
};

void register_types(lamina::Registrar& r) {
  r.add<lamina::Merge>("weighted_sum", "sum of inputs of one shape, each scaled by a learned weight (from 1)", {},
                       [](const lamina::Config&) { return std::make_unique<WeightedSum>(); });
}

}  // namespace weighted_sum

LAMINA_PLUGIN("weighted_sum", "1.0.0", "a merge layer with learned weights (example plugin)",
              weighted_sum::register_types)
