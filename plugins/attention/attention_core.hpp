// Multi-head scaled dot-product attention (Vaswani et al. 2017, 3.2), the arithmetic shared by
// the self-attention layer and the cross-attention merge. Queries come from xq (N, Tq, D), keys
// and values from xkv (N, Tk, D) (the same tensor for self-attention):
//   Q = xq Wq + bq,  K = xkv Wk + bk,  V = xkv Wv + bv          each (N, T, D), W* (D, D)
//   per sample and head h (columns h*dh .. (h+1)*dh, dh = D / heads):
//     S = Q_h K_h^T / sqrt(dh),  masked (causal: key j > query i gets -inf),  P = softmax rows
//     P' = P * dropout mask / (1 - p) in training,  O_h = P' V_h
//   y = O Wo + bo
// backward, per sample and head, with dO = dy Wo^T:
//   dP' = dO_h V_h^T, dV_h = P'^T dO_h, dP = dP' * mask, dS = P * (dP - rowsum(dP * P)) / sqrt(dh),
//   dQ_h = dS K_h, dK_h = dS^T Q_h;  then the projections' gradients as an affine layer's.
// Init as PyTorch's nn.MultiheadAttention: Wq, Wk, Wv Xavier-uniform over (D, D), Wo uniform in
// +-1/sqrt(D), biases 0. Wq, Wk, Wv, Wo are decayed, biases not.
//
// Threads: the (sample, head) pairs are split into one contiguous range per OpenMP thread, each
// pair's products its own; the projections split their output columns. No two threads add into
// one number, so a fixed thread count gives the same numbers. The dropout mask is drawn before
// the split, from the run's stream in a fixed order. Every buffer is a member: no allocation per
// batch in steady state.
#pragma once

#define EIGEN_STACK_ALLOCATION_LIMIT (1 << 20)
#define EIGEN_DONT_PARALLELIZE
#include <cmath>
#include <cstdint>
#include <cstring>
#include <lamina/context.hpp>
#include <lamina/eigen.hpp>
#include <lamina/error.hpp>
#include <lamina/param.hpp>
#include <lamina/parallel.hpp>
#include <limits>
#include <utility>
#include <string>
#include <vector>

namespace lamina_attention {

using namespace lamina;

using Block = Eigen::Map<RowMatrix, 0, Eigen::OuterStride<>>;
using ConstBlock = Eigen::Map<const RowMatrix, 0, Eigen::OuterStride<>>;

class AttentionCore {
 public:
  AttentionCore(std::int64_t heads, bool causal, float dropout, std::string where)
      : heads_(heads), causal_(causal), dropout_(dropout), where_(std::move(where)) {}

  // Checks the shapes and makes the parameters; returns the output's sample shape (Tq, D).
  Shape build(const Shape& q, const Shape& kv, Rng& rng, const char* what) {
    for (const Shape* s : {&q, &kv}) {
      if (s->rank() != 2) {
        throw InputError(where_ + ": " + what + " needs samples of (T, D), a sequence of vectors; got " + s->str());
      }
    }
    tq_ = q[0];
    tk_ = kv[0];
    d_ = q[1];
    if (kv[1] != d_) {
      throw InputError(where_ + ": " + what + " needs queries and memory of one width D; got " + q.str() + " and " +
                       kv.str());
    }
    if (d_ % heads_ != 0) {
      throw InputError(where_ + ": " + std::to_string(heads_) + " heads do not divide the width D = " +
                       std::to_string(d_) + " (each head takes D / heads features)");
    }
    if (d_ > (1 << 14)) throw InputError(where_ + ": a width D above 16384 is beyond the limit");
    dh_ = d_ / heads_;
    params_.clear();
    const float xavier = std::sqrt(6.0f / static_cast<float>(2 * d_)), out = 1.0f / std::sqrt(static_cast<float>(d_));
    for (const char* name : {"Wq", "bq", "Wk", "bk", "Wv", "bv", "Wo", "bo"}) {
      const bool weight = name[0] == 'W';
      const Shape shape = weight ? Shape{d_, d_} : Shape{d_};
      params_.push_back({name, Tensor(shape), Tensor(shape), weight});
      if (!weight) continue;
      const float k = name[1] == 'o' ? out : xavier;
      for (auto& v : params_.back().value.values()) v = (2.0f * rng.uniform() - 1.0f) * k;
    }
    return Shape{tq_, d_};
  }

  std::vector<Param>& params() { return params_; }

  void forward(const Tensor& xq, const Tensor& xkv, Tensor& y, Context& ctx) {
    xq_ = &xq;
    xkv_ = &xkv;
    n_ = xq.rows();
    const std::int64_t pairs = n_ * heads_, square = tq_ * tk_;
    q_.resize(Shape{n_ * tq_, d_});
    k_.resize(Shape{n_ * tk_, d_});
    v_.resize(Shape{n_ * tk_, d_});
    o_.resize(Shape{n_ * tq_, d_});
    p_.resize(Shape{pairs * tq_, tk_});
    project(xq, tq_, 0, q_);
    project(xkv, tk_, 2, k_);
    project(xkv, tk_, 4, v_);
    drop_ = ctx.mode == Mode::Train && dropout_ > 0.0f;
    if (drop_) {
      draw_mask(pairs * square, *ctx.rng);
      pd_.resize(Shape{pairs * tq_, tk_});
    }
    const float scale = 1.0f / std::sqrt(static_cast<float>(dh_));
    for_ranges(pairs, threads_for(pairs), 1, [&](int, std::int64_t b, std::int64_t e) {
      for (std::int64_t pair = b; pair < e; ++pair) {
        const std::int64_t s = pair / heads_, h = pair % heads_;
        auto P = matrix(p_, pairs * tq_, tk_).middleRows(pair * tq_, tq_);
        P.noalias() = head(q_, s, h, tq_) * head(k_, s, h, tk_).transpose();
        for (std::int64_t i = 0; i < tq_; ++i) softmax_row(P.row(i).data(), i, scale);
        auto O = head(o_, s, h, tq_);
        if (drop_) {
          auto Pd = matrix(pd_, pairs * tq_, tk_).middleRows(pair * tq_, tq_);
          Pd = P.cwiseProduct(matrix(std::as_const(mask_), pairs * tq_, tk_).middleRows(pair * tq_, tq_));
          O.noalias() = Pd * head(v_, s, h, tk_);
        } else {
          O.noalias() = P * head(v_, s, h, tk_);
        }
      }
    });
    y.resize(Shape{n_, tq_, d_});
    auto Y = matrix(y, n_ * tq_, d_);
    Y.noalias() = matrix(std::as_const(o_)) * matrix(params_[6].value);
    Y.rowwise() += matrix(params_[7].value, 1, d_).row(0);
  }

  // dxq and dxkv: the gradients of the two inputs (dxkv null: self-attention, added into dxq).
  void backward(const Tensor& dy, Tensor* dxq, Tensor* dxkv, bool input_grad) {
    const std::int64_t pairs = n_ * heads_;
    const auto DY = matrix(dy, n_ * tq_, d_);
    matrix(params_[6].grad).noalias() = matrix(std::as_const(o_)).transpose() * DY;
    matrix(params_[7].grad, 1, d_).noalias() = DY.colwise().sum();
    d_o_.resize(Shape{n_ * tq_, d_});
    matrix(d_o_).noalias() = DY * matrix(params_[6].value).transpose();
    dq_.resize(Shape{n_ * tq_, d_});
    dk_.resize(Shape{n_ * tk_, d_});
    dv_.resize(Shape{n_ * tk_, d_});
    dp_.resize(Shape{pairs * tq_, tk_});
    const float scale = 1.0f / std::sqrt(static_cast<float>(dh_));
    for_ranges(pairs, threads_for(pairs), 1, [&](int, std::int64_t b, std::int64_t e) {
      for (std::int64_t pair = b; pair < e; ++pair) {
        const std::int64_t s = pair / heads_, h = pair % heads_;
        const auto P = matrix(std::as_const(p_), pairs * tq_, tk_).middleRows(pair * tq_, tq_);
        auto dP = matrix(dp_, pairs * tq_, tk_).middleRows(pair * tq_, tq_);
        const auto dO = head(d_o_, s, h, tq_);
        dP.noalias() = dO * head(v_, s, h, tk_).transpose();  // dP'
        if (drop_) {
          const auto Pd = matrix(std::as_const(pd_), pairs * tq_, tk_).middleRows(pair * tq_, tq_);
          head(dv_, s, h, tk_).noalias() = Pd.transpose() * dO;
          dP.array() *= matrix(std::as_const(mask_), pairs * tq_, tk_).middleRows(pair * tq_, tq_).array();
        } else {
          head(dv_, s, h, tk_).noalias() = P.transpose() * dO;
        }
        for (std::int64_t i = 0; i < tq_; ++i) {
          const float dot = dP.row(i).dot(P.row(i));
          dP.row(i) = (P.row(i).array() * (dP.row(i).array() - dot) * scale).matrix();
        }
        head(dq_, s, h, tq_).noalias() = dP * head(k_, s, h, tk_);
        head(dk_, s, h, tk_).noalias() = dP.transpose() * head(q_, s, h, tq_);
      }
    });
    weight_grad(*xq_, tq_, dq_, 0);
    weight_grad(*xkv_, tk_, dk_, 2);
    weight_grad(*xkv_, tk_, dv_, 4);
    if (!input_grad) return;
    dxq->resize(xq_->shape());
    auto DXQ = matrix(*dxq, n_ * tq_, d_);
    DXQ.noalias() = matrix(std::as_const(dq_)) * matrix(params_[0].value).transpose();
    Tensor& kv = dxkv ? *dxkv : *dxq;
    if (dxkv) kv.resize(xkv_->shape());
    auto DXKV = matrix(kv, n_ * tk_, d_);
    if (dxkv) {
      DXKV.noalias() = matrix(std::as_const(dk_)) * matrix(params_[2].value).transpose();
    } else {
      DXKV.noalias() += matrix(std::as_const(dk_)) * matrix(params_[2].value).transpose();
    }
    DXKV.noalias() += matrix(std::as_const(dv_)) * matrix(params_[4].value).transpose();
  }

  std::int64_t tq() const { return tq_; }
  std::int64_t d() const { return d_; }

 private:
  // The (T, dh) block of head h of sample s in an (N T, D) tensor.
  Block head(Tensor& t, std::int64_t s, std::int64_t h, std::int64_t steps) const {
    return Block(t.data() + s * steps * d_ + h * dh_, steps, dh_, Eigen::OuterStride<>(d_));
  }
  ConstBlock head(const Tensor& t, std::int64_t s, std::int64_t h, std::int64_t steps) const {
    return ConstBlock(t.data() + s * steps * d_ + h * dh_, steps, dh_, Eigen::OuterStride<>(d_));
  }

  // out = x W + b for the projection whose W is params_[at], b params_[at + 1].
  void project(const Tensor& x, std::int64_t steps, int at, Tensor& out) const {
    auto Y = matrix(out, n_ * steps, d_);
    Y.noalias() = matrix(x, n_ * steps, d_) * matrix(params_[at].value);
    Y.rowwise() += matrix(params_[at + 1].value, 1, d_).row(0);
  }

  void weight_grad(const Tensor& x, std::int64_t steps, const Tensor& dout, int at) {
    const auto X = matrix(x, n_ * steps, d_), D = matrix(dout, n_ * steps, d_);
    matrix(params_[at].grad).noalias() = X.transpose() * D;
    matrix(params_[at + 1].grad, 1, d_).noalias() = D.colwise().sum();
  }

  // Row i of the scores: scaled, masked (causal: the keys after query i), softmax in place.
  void softmax_row(float* row, std::int64_t i, float scale) const {
    const std::int64_t valid = causal_ ? std::min(tk_, i + 1) : tk_;
    float top = -std::numeric_limits<float>::infinity();
    for (std::int64_t j = 0; j < valid; ++j) top = std::max(top, row[j] * scale);
    float sum = 0.0f;
    for (std::int64_t j = 0; j < valid; ++j) sum += row[j] = std::exp(row[j] * scale - top);
    const float inv = 1.0f / sum;
    for (std::int64_t j = 0; j < valid; ++j) row[j] *= inv;
    for (std::int64_t j = valid; j < tk_; ++j) row[j] = 0.0f;
  }

  // mask_: 1 / (1 - p) for a kept weight, 0 for a dropped one; 16-bit draws as dropout's.
  void draw_mask(std::int64_t count, Rng& rng) {
    mask_.resize(Shape{count});
    const auto threshold = static_cast<std::uint32_t>(std::lround(static_cast<double>(dropout_) * 65536.0));
    const float keep = 1.0f / (1.0f - dropout_);
    float* m = mask_.data();
    for (std::int64_t k = 0; k < count; k += 4) {
      std::uint64_t bits = rng.next();
      for (std::int64_t lane = 0; lane < 4 && k + lane < count; ++lane, bits >>= 16) {
        m[k + lane] = static_cast<std::uint32_t>(bits & 0xffff) >= threshold ? keep : 0.0f;
      }
    }
  }

  std::int64_t heads_;
  bool causal_;
  float dropout_;
  std::string where_;
  std::int64_t tq_ = 0, tk_ = 0, d_ = 0, dh_ = 0, n_ = 0;
  bool drop_ = false;
  std::vector<Param> params_;
  const Tensor* xq_ = nullptr;
  const Tensor* xkv_ = nullptr;
  // Q, K, V, the heads' outputs O; P (N heads Tq, Tk); the dropout mask and P' = P * mask.
  Tensor q_, k_, v_, o_, p_, mask_, pd_, d_o_, dq_, dk_, dv_, dp_;
};

}  // namespace lamina_attention
