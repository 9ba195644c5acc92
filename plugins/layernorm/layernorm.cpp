// Layer normalization (Ba, Kiros & Hinton 2016, arXiv:1607.06450) over the LAST axis of each
// sample: a (D) sample is one row, a (T, D) sequence T rows, each normalized by itself:
//   mu = mean_d x,  var = mean_d (x - mu)^2  (biased, as PyTorch's LayerNorm)
//   xhat = (x - mu) / sqrt(var + eps),  y = gamma * xhat + beta       gamma, beta: (D)
//   backward, with g = dy * gamma per row:
//     dx = 1/sqrt(var + eps) * (g - mean_d g - xhat * mean_d (g * xhat))
//     dgamma = sum over rows of dy * xhat,  dbeta = sum over rows of dy
// Train and eval compute the same thing (no batch statistics, no state). gamma starts at 1,
// beta at 0; neither is decayed. ONNX: decomposed into opset-13 ops (LayerNormalization is
// opset 17, which OpenCV 4.6 does not read).
#include <cmath>
#include <lamina/eigen.hpp>
#include <lamina/layer.hpp>
#include <lamina/onnx.hpp>
#include <lamina/plugin.hpp>
#include <string>
#include <vector>

namespace lamina_layernorm {

using namespace lamina;

class LayerNorm final : public Layer, public OnnxExportable {
 public:
  explicit LayerNorm(const Config& c) : eps_(c.get<float>("eps")) {}

  Shape build(const Shape& input, BuildContext&) override {
    d_ = input[input.rank() - 1];
    params_.clear();
    params_.push_back({"gamma", Tensor(Shape{d_}), Tensor(Shape{d_}), false});
    params_.push_back({"beta", Tensor(Shape{d_}), Tensor(Shape{d_}), false});
    params_[0].value.fill(1.0f);
    return input;
  }

  void forward(const Tensor& x, Tensor& y, Context&) override {
    const std::int64_t rows = x.size() / d_;
    y.resize(x.shape());
    xhat_.resize(Shape{rows, d_});
    inv_std_.resize(Shape{rows});
    const auto X = matrix(x, rows, d_);
    auto Xhat = matrix(xhat_, rows, d_);
    auto Y = matrix(y, rows, d_);
    const auto gamma = matrix(params_[0].value, 1, d_).row(0).array();
    const auto beta = matrix(params_[1].value, 1, d_).row(0).array();
    for (std::int64_t r = 0; r < rows; ++r) {
      const float mu = X.row(r).mean();
      const float var = (X.row(r).array() - mu).square().mean();
      const float inv = 1.0f / std::sqrt(var + eps_);
      inv_std_[r] = inv;
      Xhat.row(r) = (X.row(r).array() - mu) * inv;
      Y.row(r) = Xhat.row(r).array() * gamma + beta;
    }
  }

  void backward(const Tensor& dy, Tensor& dx, Context& ctx) override {
    const std::int64_t rows = dy.size() / d_;
    const auto DY = matrix(dy, rows, d_);
    const auto Xhat = matrix(xhat_, rows, d_);
    matrix(params_[0].grad, 1, d_).row(0) = (DY.array() * Xhat.array()).colwise().sum();
    matrix(params_[1].grad, 1, d_).row(0) = DY.colwise().sum();
    if (!ctx.need_input_grad) return;
    dx.resize(dy.shape());
    auto DX = matrix(dx, rows, d_);
    const auto gamma = matrix(params_[0].value, 1, d_).row(0).array();
    for (std::int64_t r = 0; r < rows; ++r) {
      // g = dy * gamma, written into dx's row first: no temporary row per call.
      DX.row(r) = DY.row(r).array() * gamma;
      const float mean_g = DX.row(r).mean();
      const float mean_gx = (DX.row(r).array() * Xhat.row(r).array()).mean();
      DX.row(r) = inv_std_[r] * (DX.row(r).array() - mean_g - Xhat.row(r).array() * mean_gx);
    }
  }

  std::span<Param> params() override { return params_; }

  // y = (x - mean) / sqrt(mean((x - mean)^2) + eps) * gamma + beta over the last axis.
  // OpenCV 4.6 runs neither a computed (N, 1) statistic broadcast over an (N, D) batch (its Div
  // asserts) nor ReduceMean over the last axis of a 4-D tensor: the batch is reshaped to rows of
  // D, each row's means are products with a constant (D, 1) column of 1/D, spread back with a
  // (1, D) row of ones, so every other operation is on equal shapes; then reshaped back.
  std::string export_onnx(OnnxGraph& g, std::span<const OnnxValue> in) const override {
    const Shape& sample = in[0].shape;
    std::vector<std::int64_t> back{-1};
    for (int i = 0; i < sample.rank(); ++i) back.push_back(sample[i]);
    const std::vector<std::int64_t> rows{-1, d_};
    const std::string x =
        sample.rank() > 1 ? g.node("Reshape", {in[0].name, g.constant_ints("as_rows", rows)}) : in[0].name;
    Tensor mean_col(Shape{d_, 1}), ones_row(Shape{1, d_});
    mean_col.fill(1.0f / static_cast<float>(d_));
    ones_row.fill(1.0f);
    const std::string col = g.constant("mean_col", mean_col), row = g.constant("ones_row", ones_row);
    const std::string centered = g.node("Sub", {x, g.node("MatMul", {g.node("MatMul", {x, col}), row})});
    const std::string var = g.node("MatMul", {g.node("Mul", {centered, centered}), col});
    Tensor eps(Shape{1});
    eps[0] = eps_;
    const std::string inv_std = g.node("Reciprocal", {g.node("Sqrt", {g.node("Add", {var, g.constant("eps", eps)})})});
    const std::string xhat = g.node("Mul", {centered, g.node("MatMul", {inv_std, row})});
    const std::string y =
        g.node("Add", {g.node("Mul", {xhat, g.constant("gamma", params_[0].value)}), g.constant("beta", params_[1].value)});
    return sample.rank() > 1 ? g.node("Reshape", {y, g.constant_ints("as_sample", back)}) : y;
  }

 private:
  float eps_;
  std::int64_t d_ = 0;
  std::vector<Param> params_;
  Tensor xhat_, inv_std_;
};

void register_types(Registrar& r) {
  r.add<Layer>("layernorm", "layer normalization over each sample's last axis (Ba et al. 2016), learnable gamma, beta",
               {Key::number("eps", "added to the variance before the square root").def(1e-5).above(0).at_most(1)},
               [](const Config& c) { return std::make_unique<LayerNorm>(c); });
}

}  // namespace lamina_layernorm

LAMINA_PLUGIN("layernorm", LAMINA_VERSION_STRING, "Layer normalization over the last axis", lamina_layernorm::register_types)
