// What the lstm and gru layers share: the shapes and limits of a recurrent layer over (T, D)
// samples, the rows of one step, the weight gradients after the time loop, the ONNX node's
// weights in ONNX's gate order and the cut of its output. The recurrence itself is each
// layer's own (lstm.cpp, gru.cpp).
#pragma once

#define EIGEN_STACK_ALLOCATION_LIMIT (1 << 20)
#define EIGEN_DONT_PARALLELIZE
#include <lamina/eigen.hpp>
#include <lamina/error.hpp>
#include <lamina/layer.hpp>
#include <lamina/onnx.hpp>
#include <lamina/parallel.hpp>
#include <lamina/registrar.hpp>

#include <cmath>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace lamina_recurrent {

using namespace lamina;

// Rows of a (N, T, K) tensor at one step t: N rows of K, T * K apart.
using Steps = Eigen::Map<RowMatrix, 0, Eigen::OuterStride<>>;
using ConstSteps = Eigen::Map<const RowMatrix, 0, Eigen::OuterStride<>>;

// Rows s0 .. s0 + rows of step t of `t_len` steps of `width` in `data`.
inline Steps step(Tensor& t, std::int64_t s0, std::int64_t at, std::int64_t rows, std::int64_t t_len, std::int64_t width) {
  return Steps(t.data() + (s0 * t_len + at) * width, rows, width, Eigen::OuterStride<>(t_len * width));
}
inline ConstSteps step(const Tensor& t, std::int64_t s0, std::int64_t at, std::int64_t rows, std::int64_t t_len,
                       std::int64_t width) {
  return ConstSteps(t.data() + (s0 * t_len + at) * width, rows, width, Eigen::OuterStride<>(t_len * width));
}

// The sample shape (T, D) of a recurrent layer with `gates` gates of `units`, checked; throws
// InputError naming `where` for another shape or more than 2^28 weights.
inline std::pair<std::int64_t, std::int64_t> sequence_of(const Shape& input, const std::string& where, const char* type,
                                                         std::int64_t units, std::int64_t gates) {
  if (input.rank() != 2) {
    throw InputError(where + ": " + type + " needs samples of (T, D), a sequence of vectors; got " + input.str() +
                     " (a `reshape` layer makes one, e.g. shape: [28, 28] for an image's rows)");
  }
  if ((input[1] + units + 2) * gates * units > (std::int64_t{1} << 28)) {
    throw InputError(where + ": " + type + " layer: " + std::to_string(units) + " units on " + std::to_string(input[1]) +
                     " features make more than the limit of 2^28 weights (1 GiB)");
  }
  return {input[0], input[1]};
}

// The layer's output from every h_t (N T, H): all of them as (N, T, H), or h_{T-1} as (N, H).
inline void write_output(const Tensor& hidden, Tensor& y, std::int64_t n, std::int64_t t, std::int64_t h, bool sequence) {
  if (sequence) {
    y.copy_from(hidden);
    y.resize(Shape{n, t, h});
  } else {
    y.resize(Shape{n, h});
    matrix(y) = step(hidden, 0, t - 1, n, t, h);
  }
}

// PyTorch's init of a recurrent layer: every weight and bias uniform in +-1/sqrt(H).
inline void pytorch_init(std::vector<Param>& params, std::int64_t h, Rng& rng) {
  const float k = 1.0f / std::sqrt(static_cast<float>(h));
  for (auto& p : params) {
    for (auto& v : p.value.values()) v = (2.0f * rng.uniform() - 1.0f) * k;
  }
}

// After the time loop: dW = X^T dax and dU = Hprev^T dah over every (sample, step) row, Hprev
// being h_{t-1} (zero at t = 0) built into `shifted`, each one GEMM split by output column so
// that no two threads add into one number.
inline void weight_grads(const Tensor& x, const Tensor& hidden, const Tensor& d_x_gates, const Tensor& d_h_gates,
                         Tensor& shifted, Tensor& dW, Tensor& dU, std::int64_t n, std::int64_t t, std::int64_t d,
                         std::int64_t h) {
  const std::int64_t g = d_x_gates.cols();
  shifted.resize(Shape{n * t, h});
  for (std::int64_t s = 0; s < n; ++s) {
    auto to = matrix(shifted, n * t, h).middleRows(s * t, t);
    to.row(0).setZero();
    to.bottomRows(t - 1) = matrix(hidden, n * t, h).middleRows(s * t, t - 1);
  }
  const auto X = matrix(x, n * t, d), DX = matrix(d_x_gates, n * t, g), DH = matrix(d_h_gates, n * t, g);
  const auto HP = matrix(std::as_const(shifted), n * t, h);
  auto W = matrix(dW), U = matrix(dU);
  for_ranges(g, threads_for(g / 64), 16, [&](int, std::int64_t c0, std::int64_t c1) {
    W.middleCols(c0, c1 - c0).noalias() = X.transpose() * DX.middleCols(c0, c1 - c0);
    U.middleCols(c0, c1 - c0).noalias() = HP.transpose() * DH.middleCols(c0, c1 - c0);
  });
}

// An ONNX weight (1, G H, K) from Lamina's (K, G H): gate block k of ONNX's order holds Lamina's
// gate order[k], each transposed.
inline Tensor onnx_weights(const Tensor& w, std::span<const int> order, std::int64_t h) {
  const std::int64_t k_in = w.rows(), g = w.cols();
  Tensor out(Shape{1, g, k_in});
  for (std::size_t k = 0; k < order.size(); ++k) {
    const std::int64_t from = order[k] * h, to = static_cast<std::int64_t>(k) * h;
    for (std::int64_t j = 0; j < h; ++j) {
      for (std::int64_t i = 0; i < k_in; ++i) out[(to + j) * k_in + i] = w[i * g + from + j];
    }
  }
  return out;
}

// ONNX's recurrent node `op` (LSTM, GRU; layout 0) on the (N, T, D) input: X transposed to
// (T, N, D), the node's first output Y (T, 1, N, H) (a node of this graph has one output), cut
// to (N, H) at the last step or transposed back to (N, T, H).
inline std::string export_recurrent(OnnxGraph& gr, const std::string& input, const char* op, std::vector<std::string> weights,
                                    std::vector<OnnxAttribute> attributes, std::int64_t t, std::int64_t h, bool sequence) {
  const std::vector<std::int64_t> swap{1, 0, 2};  // (N, T, .) and (T, N, .) both ways
  weights.insert(weights.begin(), gr.node("Transpose", {input}, {{"perm", swap}}));
  const std::string ys = gr.node(op, std::move(weights), std::move(attributes));
  if (!sequence) {
    const std::vector<std::int64_t> last{t - 1}, rows{-1, h};
    return gr.node("Reshape", {gr.node("Gather", {ys, gr.constant_ints("last_step", last)}, {{"axis", std::int64_t{0}}}),
                               gr.constant_ints("as_rows", rows)});
  }
  const std::vector<std::int64_t> steps{t, -1, h};
  return gr.node("Transpose", {gr.node("Reshape", {ys, gr.constant_ints("drop_direction", steps)})}, {{"perm", swap}});
}

// The keys both layers take.
inline std::vector<Key> shared_keys() {
  return {Key::integer("units", "hidden units H").required().at_least(1).at_most(1 << 14),
          Key::string("return", "what comes out: last (h at the final step, (H)) or sequence (every h_t, (T, H))")
              .def("last")
              .one_of({"last", "sequence"})};
}

void register_lstm(Registrar& r);
void register_gru(Registrar& r);

}  // namespace lamina_recurrent
