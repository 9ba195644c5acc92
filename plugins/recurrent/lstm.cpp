// lstm: a long short-term memory layer (Hochreiter & Schmidhuber 1997, with the forget gate of
// Gers et al. 2000) over a (T, D) sequence, in PyTorch's formulation and gate order i, f, g, o:
//   a_t = x_t W + h_{t-1} U + b                      W: (D, 4H), U: (H, 4H), b: (4H)
//   i = sigmoid(a_i), f = sigmoid(a_f), g = tanh(a_g), o = sigmoid(a_o)
//   c_t = f * c_{t-1} + i * g,  h_t = o * tanh(c_t),  h_{-1} = c_{-1} = 0 (no state across batches)
// Output: (T, H), every h_t (`return: sequence`), or (H), h_{T-1} (`return: last`).
// Backward through time, with dh_t = dy_t + dh from step t+1 and dc from step t+1:
//   dc = dh * o * (1 - tanh(c)^2) + dc_next,   dc_next = dc * f
//   da_i = dc * g * i (1 - i), da_f = dc * c_{t-1} * f (1 - f), da_g = dc * i * (1 - g^2),
//   da_o = dh * tanh(c) * o (1 - o),  dh into step t-1 = da_t U^T
//   dW = sum_t x_t^T da_t, dU = sum_t h_{t-1}^T da_t, db = sum_t da_t, dx_t = da_t W^T.
// Init as PyTorch's: every weight and bias uniform in +-1/sqrt(H); then `forget_bias` is added to
// the forget gate's bias (1 by default: Jozefowicz et al. 2015 found that it matters, Keras and
// TensorFlow do it; 0 gives PyTorch's). W and U are decayed, b is not.
//
// The time loop cannot be split, but the batch can: each OpenMP thread runs the whole recurrence
// for its own samples (a contiguous range; one GEMM for all its x_t W at once, one per step for
// h_{t-1} U), so no step waits for another thread. dW and dU are single GEMMs over all steps
// after the loop, split by output column, so no two threads add into one number: a fixed thread
// count gives the same numbers on every run. Every buffer is a member resized per batch, so a
// steady-state step allocates nothing (Eigen's GEMM blocks stay on the stack, as in affine).
// recurrent_common.hpp has what the GRU shares.
#include <cmath>

#include "recurrent_common.hpp"

namespace lamina_recurrent {

class Lstm final : public Layer, public OnnxExportable {
 public:
  explicit Lstm(const Config& c)
      : h_(c.get<std::int64_t>("units")),
        sequence_(c.get<std::string>("return") == "sequence"),
        forget_bias_(c.get<float>("forget_bias")),
        where_(c.where()) {}

  Shape build(const Shape& input, BuildContext& ctx) override {
    std::tie(t_, d_) = sequence_of(input, where_, "lstm", h_, 4);
    const std::int64_t g = 4 * h_;
    params_.clear();
    params_.push_back({"W", Tensor(Shape{d_, g}), Tensor(Shape{d_, g}), true});
    params_.push_back({"U", Tensor(Shape{h_, g}), Tensor(Shape{h_, g}), true});
    params_.push_back({"b", Tensor(Shape{g}), Tensor(Shape{g}), false});
    pytorch_init(params_, h_, *ctx.rng);
    for (std::int64_t j = h_; j < 2 * h_; ++j) params_[2].value[j] += forget_bias_;
    return sequence_ ? Shape{t_, h_} : Shape{h_};
  }

  void forward(const Tensor& x, Tensor& y, Context&) override {
    x_ = &x;
    const std::int64_t n = x.rows(), g = 4 * h_;
    gates_.resize(Shape{n * t_, g});
    cells_.resize(Shape{n * t_, h_});
    tanh_cells_.resize(Shape{n * t_, h_});
    hidden_.resize(Shape{n * t_, h_});
    const auto W = matrix(params_[0].value), U = matrix(params_[1].value);
    const auto b = matrix(params_[2].value, 1, g);
    for_ranges(n, threads_for(n / 4), 1, [&](int, std::int64_t s0, std::int64_t s1) {
      const std::int64_t rows = s1 - s0;
      auto A = matrix(gates_, n * t_, g).middleRows(s0 * t_, rows * t_);
      A.noalias() = matrix(x, n * t_, d_).middleRows(s0 * t_, rows * t_) * W;
      A.rowwise() += b.row(0);
      for (std::int64_t t = 0; t < t_; ++t) {
        auto a = step(gates_, s0, t, rows, t_, g);
        auto c = step(cells_, s0, t, rows, t_, h_);
        auto tc = step(tanh_cells_, s0, t, rows, t_, h_);
        auto h = step(hidden_, s0, t, rows, t_, h_);
        if (t > 0) {
          const auto h_prev = step(std::as_const(hidden_), s0, t - 1, rows, t_, h_);
          a.noalias() += h_prev * U;
        }
        a.leftCols(h_) = (1.0f + (-a.leftCols(h_).array()).exp()).inverse();                   // i
        a.middleCols(h_, h_) = (1.0f + (-a.middleCols(h_, h_).array()).exp()).inverse();       // f
        a.middleCols(2 * h_, h_) = a.middleCols(2 * h_, h_).array().tanh();                    // g
        a.rightCols(h_) = (1.0f + (-a.rightCols(h_).array()).exp()).inverse();                 // o
        if (t > 0) {
          const auto c_prev = step(std::as_const(cells_), s0, t - 1, rows, t_, h_);
          c = a.middleCols(h_, h_).cwiseProduct(c_prev) + a.leftCols(h_).cwiseProduct(a.middleCols(2 * h_, h_));
        } else {
          c = a.leftCols(h_).cwiseProduct(a.middleCols(2 * h_, h_));
        }
        tc = c.array().tanh();
        h = a.rightCols(h_).cwiseProduct(tc);
      }
    });
    write_output(hidden_, y, n, t_, h_, sequence_);
  }

  void backward(const Tensor& dy, Tensor& dx, Context& ctx) override {
    const std::int64_t n = x_->rows(), g = 4 * h_;
    d_gates_.resize(Shape{n * t_, g});
    dh_.resize(Shape{n, h_});
    dc_.resize(Shape{n, h_});
    const auto W = matrix(params_[0].value), U = matrix(params_[1].value);
    const bool input_grad = ctx.need_input_grad;
    if (input_grad) dx.resize(x_->shape());
    for_ranges(n, threads_for(n / 4), 1, [&](int, std::int64_t s0, std::int64_t s1) {
      const std::int64_t rows = s1 - s0;
      auto dh = matrix(dh_, n, h_).middleRows(s0, rows);
      auto dc = matrix(dc_, n, h_).middleRows(s0, rows);
      // dh carries the gradient into h_t: from the output, then from step t+1 (added below).
      if (sequence_) {
        dh = step(dy, s0, t_ - 1, rows, t_, h_);
      } else {
        dh = matrix(dy, n, h_).middleRows(s0, rows);
      }
      dc.setZero();
      for (std::int64_t t = t_ - 1; t >= 0; --t) {
        const auto a = step(std::as_const(gates_), s0, t, rows, t_, g);
        const auto tc = step(std::as_const(tanh_cells_), s0, t, rows, t_, h_);
        auto da = step(d_gates_, s0, t, rows, t_, g);
        const auto i = a.leftCols(h_).array(), f = a.middleCols(h_, h_).array();
        const auto gg = a.middleCols(2 * h_, h_).array(), o = a.rightCols(h_).array();
        // dc += dh * o * (1 - tanh(c)^2); da_o = dh * tanh(c) * o (1 - o)
        dc.array() += dh.array() * o * (1.0f - tc.array().square());
        da.rightCols(h_) = dh.array() * tc.array() * o * (1.0f - o);
        da.leftCols(h_) = dc.array() * gg * i * (1.0f - i);
        da.middleCols(2 * h_, h_) = dc.array() * i * (1.0f - gg.square());
        if (t > 0) {
          const auto c_prev = step(std::as_const(cells_), s0, t - 1, rows, t_, h_);
          da.middleCols(h_, h_) = dc.array() * c_prev.array() * f * (1.0f - f);
          dc.array() *= f;
          // dh into h_{t-1}: da_t U^T, plus the output's gradient there.
          if (sequence_) {
            dh = step(dy, s0, t - 1, rows, t_, h_);
            dh.noalias() += da * U.transpose();
          } else {
            dh.noalias() = da * U.transpose();
          }
        } else {
          da.middleCols(h_, h_).setZero();  // c_{-1} = 0
        }
      }
      if (input_grad) {
        matrix(dx, n * t_, d_).middleRows(s0 * t_, rows * t_).noalias() =
            matrix(d_gates_, n * t_, g).middleRows(s0 * t_, rows * t_) * W.transpose();
      }
    });
    // The same gate gradients reach W (through x_t) and U (through h_{t-1}).
    weight_grads(*x_, hidden_, d_gates_, d_gates_, shifted_, params_[0].grad, params_[1].grad, n, t_, d_, h_);
    const auto DA = matrix(std::as_const(d_gates_), n * t_, g);
    matrix(params_[2].grad, 1, g).noalias() = DA.colwise().sum();
  }

  std::span<Param> params() override { return params_; }

  // ONNX's LSTM (opset 7+, layout 0): X as (T, N, D), weights per direction with the gates in
  // the order i, o, f, c and transposed: W (1, 4H, D), R (1, 4H, H), B (1, 8H) = [Wb, Rb]; its
  // output Y is (T, 1, N, H).
  std::string export_onnx(OnnxGraph& gr, std::span<const OnnxValue> in) const override {
    const std::int64_t g = 4 * h_;
    constexpr int order[4] = {0, 3, 1, 2};  // ONNX's i, o, f, c from Lamina's i, f, g, o
    Tensor bias(Shape{1, 2 * g});  // [Wb, Rb]: Rb stays 0, the sum is what counts
    for (int k = 0; k < 4; ++k) {
      for (std::int64_t j = 0; j < h_; ++j) bias[k * h_ + j] = params_[2].value[order[k] * h_ + j];
    }
    return export_recurrent(gr, in[0].name, "LSTM",
                            {gr.constant("W", onnx_weights(params_[0].value, order, h_)),
                             gr.constant("R", onnx_weights(params_[1].value, order, h_)), gr.constant("B", bias)},
                            {{"hidden_size", h_}}, t_, h_, sequence_);
  }

 private:
  std::int64_t h_;
  bool sequence_;
  float forget_bias_;
  std::string where_;
  std::int64_t t_ = 0, d_ = 0;
  std::vector<Param> params_;
  const Tensor* x_ = nullptr;
  // (N T, 4H) gate activations i f g o; (N T, H) c_t, tanh(c_t), h_t; backward's buffers.
  Tensor gates_, cells_, tanh_cells_, hidden_, d_gates_, dh_, dc_, shifted_;
};

void register_lstm(Registrar& r) {
  auto keys = shared_keys();
  keys.push_back(Key::number("forget_bias", "added to the forget gate's initial bias (0 gives PyTorch's init)")
                     .def(1.0)
                     .at_least(-100)
                     .at_most(100));
  r.add<Layer>("lstm", "long short-term memory over a (T, D) sequence (PyTorch's gates and init)", std::move(keys),
               [](const Config& c) { return std::make_unique<Lstm>(c); });
}

}  // namespace lamina_recurrent
