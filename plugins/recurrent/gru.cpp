// gru: a gated recurrent unit layer (Cho et al. 2014) over a (T, D) sequence, in PyTorch's
// formulation (the reset gate applied after the hidden product, ONNX's linear_before_reset = 1)
// and gate order r, z, n:
//   ax = x_t W + bi,  ah = h_{t-1} U + bh              W: (D, 3H), U: (H, 3H), bi, bh: (3H)
//   r = sigmoid(ax_r + ah_r), z = sigmoid(ax_z + ah_z), n = tanh(ax_n + r * ah_n)
//   h_t = (1 - z) * n + z * h_{t-1},  h_{-1} = 0
// Output: h_{T-1}, (H) (`return: last`), or every h_t, (T, H) (`return: sequence`).
// Backward through time, dh_t = dy_t + dh from step t+1:
//   dn = dh (1 - z), dz = dh (h_{t-1} - n), da_n = dn (1 - n^2), dr = da_n * ah_n
//   gradients of ax: [dr r(1-r), dz z(1-z), da_n]; of ah: the same with da_n * r in the n block
//   dh into step t-1 = dh * z + dah U^T; dW = sum x^T dax, dU = sum h_{t-1}^T dah, dbi, dbh sums.
// Init as PyTorch's: everything uniform in +-1/sqrt(H). W and U are decayed, biases not.
// Threads, buffers and determinism as lstm.cpp's: each thread runs the recurrence for
// its own samples; dW and dU are single GEMMs after the loop, split by output column.
#include "recurrent_common.hpp"

namespace lamina_recurrent {

class Gru final : public Layer, public OnnxExportable {
 public:
  explicit Gru(const Config& c)
      : h_(c.get<std::int64_t>("units")), sequence_(c.get<std::string>("return") == "sequence"), where_(c.where()) {}

  Shape build(const Shape& input, BuildContext& ctx) override {
    std::tie(t_, d_) = sequence_of(input, where_, "gru", h_, 3);
    const std::int64_t g = 3 * h_;
    params_.clear();
    params_.push_back({"W", Tensor(Shape{d_, g}), Tensor(Shape{d_, g}), true});
    params_.push_back({"U", Tensor(Shape{h_, g}), Tensor(Shape{h_, g}), true});
    params_.push_back({"bi", Tensor(Shape{g}), Tensor(Shape{g}), false});
    params_.push_back({"bh", Tensor(Shape{g}), Tensor(Shape{g}), false});
    pytorch_init(params_, h_, *ctx.rng);
    return sequence_ ? Shape{t_, h_} : Shape{h_};
  }

  void forward(const Tensor& x, Tensor& y, Context&) override {
    x_ = &x;
    const std::int64_t n = x.rows(), g = 3 * h_;
    gates_.resize(Shape{n * t_, g});
    hidden_n_.resize(Shape{n * t_, h_});
    hidden_.resize(Shape{n * t_, h_});
    ah_.resize(Shape{n, g});
    const auto W = matrix(params_[0].value), U = matrix(params_[1].value);
    const auto bi = matrix(params_[2].value, 1, g), bh = matrix(params_[3].value, 1, g);
    for_ranges(n, threads_for(n / 4), 1, [&](int, std::int64_t s0, std::int64_t s1) {
      const std::int64_t rows = s1 - s0;
      auto A = matrix(gates_, n * t_, g).middleRows(s0 * t_, rows * t_);
      A.noalias() = matrix(x, n * t_, d_).middleRows(s0 * t_, rows * t_) * W;
      A.rowwise() += bi.row(0);
      auto ah = matrix(ah_, n, g).middleRows(s0, rows);
      for (std::int64_t t = 0; t < t_; ++t) {
        auto a = step(gates_, s0, t, rows, t_, g);
        auto hn = step(hidden_n_, s0, t, rows, t_, h_);
        auto h = step(hidden_, s0, t, rows, t_, h_);
        ah.rowwise() = bh.row(0);
        if (t > 0) {
          const auto h_prev = step(std::as_const(hidden_), s0, t - 1, rows, t_, h_);
          ah.noalias() += h_prev * U;
        }
        hn = ah.rightCols(h_);
        a.leftCols(2 * h_) = (1.0f + (-(a.leftCols(2 * h_) + ah.leftCols(2 * h_)).array()).exp()).inverse();  // r, z
        a.rightCols(h_) = (a.rightCols(h_).array() + a.leftCols(h_).array() * hn.array()).tanh();        // n
        const auto z = a.middleCols(h_, h_).array(), nn = a.rightCols(h_).array();
        if (t > 0) {
          const auto h_prev = step(std::as_const(hidden_), s0, t - 1, rows, t_, h_);
          h = (1.0f - z) * nn + z * h_prev.array();
        } else {
          h = (1.0f - z) * nn;
        }
      }
    });
    write_output(hidden_, y, n, t_, h_, sequence_);
  }

  void backward(const Tensor& dy, Tensor& dx, Context& ctx) override {
    const std::int64_t n = x_->rows(), g = 3 * h_;
    d_x_gates_.resize(Shape{n * t_, g});
    d_h_gates_.resize(Shape{n * t_, g});
    dh_.resize(Shape{n, h_});
    const auto W = matrix(params_[0].value), U = matrix(params_[1].value);
    const bool input_grad = ctx.need_input_grad;
    if (input_grad) dx.resize(x_->shape());
    for_ranges(n, threads_for(n / 4), 1, [&](int, std::int64_t s0, std::int64_t s1) {
      const std::int64_t rows = s1 - s0;
      auto dh = matrix(dh_, n, h_).middleRows(s0, rows);
      if (sequence_) {
        dh = step(dy, s0, t_ - 1, rows, t_, h_);
      } else {
        dh = matrix(dy, n, h_).middleRows(s0, rows);
      }
      for (std::int64_t t = t_ - 1; t >= 0; --t) {
        const auto a = step(std::as_const(gates_), s0, t, rows, t_, g);
        const auto hn = step(std::as_const(hidden_n_), s0, t, rows, t_, h_);
        auto dax = step(d_x_gates_, s0, t, rows, t_, g);
        auto dah = step(d_h_gates_, s0, t, rows, t_, g);
        const auto r = a.leftCols(h_).array(), z = a.middleCols(h_, h_).array(), nn = a.rightCols(h_).array();
        // da_n = dh (1 - z)(1 - n^2); dz = dh (h_{t-1} - n) z (1 - z); dr = da_n ah_n r (1 - r)
        dax.rightCols(h_) = dh.array() * (1.0f - z) * (1.0f - nn.square());
        dah.rightCols(h_) = dax.rightCols(h_).array() * r;
        dax.leftCols(h_) = dax.rightCols(h_).array() * hn.array() * r * (1.0f - r);
        if (t > 0) {
          const auto h_prev = step(std::as_const(hidden_), s0, t - 1, rows, t_, h_);
          dax.middleCols(h_, h_) = dh.array() * (h_prev.array() - nn) * z * (1.0f - z);
        } else {
          dax.middleCols(h_, h_) = dh.array() * (-nn) * z * (1.0f - z);
        }
        dah.leftCols(2 * h_) = dax.leftCols(2 * h_);
        if (t > 0) {
          // dh into h_{t-1}: through z directly, through the hidden product, and from the output.
          dh.array() *= z;
          dh.noalias() += dah * U.transpose();
          if (sequence_) {
            dh += step(dy, s0, t - 1, rows, t_, h_);
          }
        }
      }
      if (input_grad) {
        matrix(dx, n * t_, d_).middleRows(s0 * t_, rows * t_).noalias() =
            matrix(std::as_const(d_x_gates_), n * t_, g).middleRows(s0 * t_, rows * t_) * W.transpose();
      }
    });
    weight_grads(*x_, hidden_, d_x_gates_, d_h_gates_, shifted_, params_[0].grad, params_[1].grad, n, t_, d_, h_);
    const auto DX = matrix(std::as_const(d_x_gates_), n * t_, g), DH = matrix(std::as_const(d_h_gates_), n * t_, g);
    matrix(params_[2].grad, 1, g).noalias() = DX.colwise().sum();
    matrix(params_[3].grad, 1, g).noalias() = DH.colwise().sum();
  }

  std::span<Param> params() override { return params_; }

  // ONNX's GRU (opset 7+, linear_before_reset = 1, PyTorch's form): X as (T, N, D), gates in the
  // order z, r, h and transposed: W (1, 3H, D), R (1, 3H, H), B (1, 6H) = [Wb, Rb]; its output Y
  // (T, 1, N, H) is then cut as lstm's.
  std::string export_onnx(OnnxGraph& gr, std::span<const OnnxValue> in) const override {
    const std::int64_t g = 3 * h_;
    constexpr int order[3] = {1, 0, 2};  // ONNX's z, r, h from Lamina's r, z, n
    Tensor bias(Shape{1, 2 * g});        // [Wb, Rb] = [bi, bh], reordered
    for (int k = 0; k < 3; ++k) {
      for (std::int64_t j = 0; j < h_; ++j) {
        bias[k * h_ + j] = params_[2].value[order[k] * h_ + j];
        bias[g + k * h_ + j] = params_[3].value[order[k] * h_ + j];
      }
    }
    return export_recurrent(gr, in[0].name, "GRU",
                            {gr.constant("W", onnx_weights(params_[0].value, order, h_)),
                             gr.constant("R", onnx_weights(params_[1].value, order, h_)), gr.constant("B", bias)},
                            {{"hidden_size", h_}, {"linear_before_reset", std::int64_t{1}}}, t_, h_, sequence_);
  }

 private:
  std::int64_t h_;
  bool sequence_;
  std::string where_;
  std::int64_t t_ = 0, d_ = 0;
  std::vector<Param> params_;
  const Tensor* x_ = nullptr;
  // (N T, 3H) gates r z n; (N T, H) ah_n and h_t; (N, 3H) one step's hidden product; backward's.
  Tensor gates_, hidden_n_, hidden_, ah_, d_x_gates_, d_h_gates_, dh_, shifted_;
};

void register_gru(Registrar& r) {
  r.add<Layer>("gru", "gated recurrent unit over a (T, D) sequence (PyTorch's gates and init)", shared_keys(),
               [](const Config& c) { return std::make_unique<Gru>(c); });
}

}  // namespace lamina_recurrent
