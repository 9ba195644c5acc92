// Batch normalization (Ioffe & Szegedy 2015, arXiv:1502.03167), per feature of an N x D batch:
//   train:  mu = mean_n x,  var = mean_n (x - mu)^2   (biased: divided by N, as the book)
//           xhat = (x - mu) / sqrt(var + eps),  y = gamma * xhat + beta
//           running = momentum * running + (1 - momentum) * batch     (for mu and var)
//   eval:   xhat = (x - running_mean) / sqrt(running_var + eps)
//   backward (train), with dxhat = dy * gamma:
//           dx = (1/N) / sqrt(var + eps) * (N*dxhat - sum_n dxhat - xhat * sum_n dxhat*xhat)
//           dgamma = sum_n dy * xhat,  dbeta = sum_n dy
// `momentum` is the weight of the OLD running value (default 0.9, the book's convention);
// PyTorch's BatchNorm momentum=0.1 weights the NEW batch value, so PyTorch 0.1 = Lamina 0.9.
// gamma starts at 1, beta at 0; neither is decayed. Running statistics start at mean 0, var 1
// and are state (saved in checkpoints, never seen by an optimizer).
// On samples of (channels, height, width) it normalizes per channel over (N, height, width),
// as Caffe's BatchNorm and PyTorch's BatchNorm2d: the formulas above with "per feature" read
// "per channel" and N read N * height * width; gamma, beta and the running statistics are
// (channels). Any other shape is normalized per feature, flattened.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <lamina/eigen.hpp>
#include <lamina/error.hpp>
#include <lamina/layer.hpp>
#include <lamina/onnx.hpp>
#include <lamina/plugin.hpp>
#include <string>
#include <vector>

namespace lamina_batchnorm {

using namespace lamina;

class BatchNorm final : public Layer, public OnnxExportable {
 public:
  explicit BatchNorm(const Config& c)
      : momentum_(c.get<float>("momentum")), eps_(c.get<float>("eps")), sync_(c.get<bool>("sync")), where_(c.where()) {}

  Shape build(const Shape& input, BuildContext&) override {
    spatial_ = input.rank() == 3 ? input[1] * input[2] : 0;
    d_ = spatial_ > 0 ? input[0] : input.numel();
    params_.clear();
    params_.push_back({"gamma", Tensor(Shape{d_}), Tensor(Shape{d_}), false});
    params_.push_back({"beta", Tensor(Shape{d_}), Tensor(Shape{d_}), false});
    params_[0].value.fill(1.0f);
    state_.clear();
    state_.push_back({"running_mean", Tensor(Shape{d_})});
    state_.push_back({"running_var", Tensor(Shape{d_})});
    state_[1].value.fill(1.0f);
    mean_.resize(Shape{d_});
    inv_std_.resize(Shape{d_});
    return input;
  }

  void forward(const Tensor& x, Tensor& y, Context& ctx) override {
    if (spatial_ > 0) {
      forward_channels(x, y, ctx);
      return;
    }
    const auto n = x.rows();
    mode_ = ctx.mode;
    xhat_.resize(Shape{n, d_});
    y.resize(x.shape());
    auto X = matrix(x, n, d_);
    auto mean = matrix(mean_, 1, d_).row(0);
    auto inv_std = matrix(inv_std_, 1, d_).row(0);
    auto rmean = matrix(state_[0].value, 1, d_).row(0);
    auto rvar = matrix(state_[1].value, 1, d_).row(0);
    synced_ = ctx.mode == Mode::Train && sync_ && ctx.comm && ctx.comm->size() > 1;
    if (ctx.mode == Mode::Train) {
      count_ = synced_ ? global_statistics(X, *ctx.comm) : static_cast<double>(n);
      if (count_ < 2) {
        throw InputError(where_ + ": batchnorm needs at least 2 samples per batch in training (a batch of " +
                         std::to_string(static_cast<std::int64_t>(count_)) +
                         " has no variance); set train.drop_last: true or change batch_size");
      }
      var_.resize(Shape{1, d_});  // a member, not a temporary: no allocation per batch
      auto var = matrix(var_);
      if (synced_) {
        for (std::int64_t j = 0; j < d_; ++j) {
          const double mu = sums_[static_cast<std::size_t>(j)] / count_;
          mean(j) = static_cast<float>(mu);
          var(0, j) = static_cast<float>(std::max(0.0, sums_[static_cast<std::size_t>(d_ + j)] / count_ - mu * mu));
        }
      } else {
        mean = X.colwise().mean();
        variance(x);
      }
      inv_std = (var.array() + eps_).rsqrt().matrix();
      rmean = momentum_ * rmean + (1 - momentum_) * mean;
      rvar = momentum_ * rvar + (1 - momentum_) * var.row(0);
    } else {
      mean = rmean;
      inv_std = (rvar.array() + eps_).rsqrt().matrix();
    }
    normalize(x, y);
  }

  void backward(const Tensor& dy, Tensor& dx, Context& ctx) override {
    if (spatial_ > 0) {
      backward_channels(dy, dx, ctx);
      return;
    }
    const auto n = xhat_.rows();
    auto dY = matrix(dy, n, d_);
    auto XH = matrix(xhat_);
    auto gamma = matrix(params_[0].value, 1, d_).row(0);
    auto inv_std = matrix(inv_std_, 1, d_).row(0);
    matrix(params_[0].grad, 1, d_) = (dY.array() * XH.array()).colwise().sum().matrix();
    matrix(params_[1].grad, 1, d_) = dY.colwise().sum();
    if (!ctx.need_input_grad) return;
    dx.resize(dy.shape());
    auto dX = matrix(dx, n, d_);
    // Per-feature rows kept in members, not Eigen temporaries: no allocation per batch.
    scale_.resize(Shape{1, d_});
    sum_dxhat_.resize(Shape{1, d_});
    sum_dxhat_xhat_.resize(Shape{1, d_});
    auto scale = matrix(scale_).row(0).array();
    auto sum_dxhat = matrix(sum_dxhat_).row(0).array();
    auto sum_dxhat_xhat = matrix(sum_dxhat_xhat_).row(0).array();
    scale = gamma.array() * inv_std.array();
    if (mode_ == Mode::Eval) {
      dX = dY.array().rowwise() * scale;
      return;
    }
    // dxhat = dy * gamma; the two batch sums, per feature (over the global batch when synced;
    // the parameter gradients stay this rank's part: the trainer sums those).
    sum_dxhat = matrix(params_[1].grad, 1, d_).row(0).array() * gamma.array();
    sum_dxhat_xhat = matrix(params_[0].grad, 1, d_).row(0).array() * gamma.array();
    if (synced_) {
      for (std::int64_t j = 0; j < d_; ++j) {
        sums_[static_cast<std::size_t>(j)] = sum_dxhat(j);
        sums_[static_cast<std::size_t>(d_ + j)] = sum_dxhat_xhat(j);
      }
      sums_.resize(static_cast<std::size_t>(2 * d_));
      ctx.comm->allreduce_sum(sums_);
      for (std::int64_t j = 0; j < d_; ++j) {
        sum_dxhat(j) = static_cast<float>(sums_[static_cast<std::size_t>(j)]);
        sum_dxhat_xhat(j) = static_cast<float>(sums_[static_cast<std::size_t>(d_ + j)]);
      }
    }
    const auto count = static_cast<float>(count_);
    const float inv_n = 1.0f / count;
    // One pass; the operations and their order are those of the formula above, term by term.
    dX = ((((dY.array().rowwise() * gamma.array()) * count).rowwise() - sum_dxhat) -
          (XH.array().rowwise() * sum_dxhat_xhat))
             .rowwise() *
         inv_std.array() * inv_n;
  }

  std::span<Param> params() override { return params_; }
  std::span<Buffer> state() override { return state_; }

 private:
  // Per channel: the batch is viewed as (N * channels) rows of height * width values, row r
  // belonging to channel r % channels. Sums per channel are taken in double, row by row in a
  // fixed order, so the result does not depend on threads.
  void forward_channels(const Tensor& x, Tensor& y, Context& ctx) {
    const std::int64_t rows = x.rows() * d_;
    mode_ = ctx.mode;
    x_ = &x;  // xhat is recomputed from x in backward: an image batch is large, one pass fewer
    y.resize(x.shape());
    auto X = matrix(x, rows, spatial_).array();
    auto mean = matrix(mean_, 1, d_).row(0);
    auto inv_std = matrix(inv_std_, 1, d_).row(0);
    auto rmean = matrix(state_[0].value, 1, d_).row(0);
    auto rvar = matrix(state_[1].value, 1, d_).row(0);
    synced_ = ctx.mode == Mode::Train && sync_ && ctx.comm && ctx.comm->size() > 1;
    if (ctx.mode == Mode::Train) {
      // Sums of x and x^2 per channel (shifted by the channel's first value, against
      // cancellation in E[x^2] - E[x]^2), and the count.
      sums_.assign(static_cast<std::size_t>(3 * d_ + 1), 0.0);
      for (std::int64_t c = 0; c < d_; ++c) sums_[static_cast<std::size_t>(2 * d_ + c)] = X(c, 0);
      over_channels(rows, [&](std::int64_t c) {
        const auto cs = static_cast<std::size_t>(c);
        const auto shift = static_cast<float>(sums_[2 * static_cast<std::size_t>(d_) + cs]);
        double sum = 0, square = 0;
        for (std::int64_t r = c; r < rows; r += d_) {
          const auto centred = X.row(r) - shift;
          sum += static_cast<double>(centred.sum());
          square += static_cast<double>(centred.square().sum());
        }
        sums_[cs] = sum;
        sums_[static_cast<std::size_t>(d_) + cs] = square;
      });
      sums_.back() = static_cast<double>(rows / d_ * spatial_);
      if (synced_) {
        // Every rank must shift by the same values: rank 0's, so shifted sums of the other
        // ranks are re-centred first.
        reshift_for_sync(*ctx.comm);
      }
      count_ = sums_.back();
      if (count_ < 2) {
        throw InputError(where_ + ": batchnorm needs at least 2 values per channel in training");
      }
      var_.resize(Shape{1, d_});
      auto var = matrix(var_);
      for (std::int64_t c = 0; c < d_; ++c) {
        const auto cs = static_cast<std::size_t>(c);
        const double m = sums_[cs] / count_;
        mean(c) = static_cast<float>(sums_[2 * static_cast<std::size_t>(d_) + cs] + m);
        var(0, c) = static_cast<float>(std::max(0.0, sums_[static_cast<std::size_t>(d_) + cs] / count_ - m * m));
      }
      inv_std = (var.array() + eps_).rsqrt().matrix();
      rmean = momentum_ * rmean + (1 - momentum_) * mean;
      rvar = momentum_ * rvar + (1 - momentum_) * var.row(0);
    } else {
      mean = rmean;
      inv_std = (rvar.array() + eps_).rsqrt().matrix();
    }
    auto Y = matrix(y, rows, spatial_).array();
    const float* gamma = params_[0].value.data();
    const float* beta = params_[1].value.data();
    over_channels(rows, [&](std::int64_t c) {
      for (std::int64_t r = c; r < rows; r += d_) Y.row(r) = (X.row(r) - mean(c)) * inv_std(c) * gamma[c] + beta[c];
    });
  }

  // Runs f(channel) for every channel, the channels split over threads when the batch is large
  // (image batches are memory-bound; two cores read them faster than one). A channel's sums are
  // taken by one thread in row order: the numbers do not depend on the split.
  template <class F>
  void over_channels(std::int64_t rows, F&& f) const {
    const bool parallel = !omp_in_parallel() && omp_get_max_threads() > 1 && rows * spatial_ >= (1 << 16);
#pragma omp parallel for schedule(static) if (parallel)
    for (std::int64_t c = 0; c < d_; ++c) f(c);
  }

  // With sync, sums_ holds this rank's sums shifted by its own first values; the shift is made
  // rank 0's before adding up: sum(x - a) = sum(x - b) + n (b - a), sum((x - a)^2) =
  // sum((x - b)^2) + 2 (b - a) sum(x - b) + n (b - a)^2.
  void reshift_for_sync(Communicator& comm) {
    const auto d = static_cast<std::size_t>(d_);
    std::vector<double>& shift = shift_;
    shift.assign(sums_.begin() + static_cast<std::ptrdiff_t>(2 * d), sums_.begin() + static_cast<std::ptrdiff_t>(3 * d));
    if (comm.rank() != 0) std::fill(shift.begin(), shift.end(), 0.0);
    comm.allreduce_sum(shift);  // rank 0's shifts everywhere
    const double n = sums_.back();
    for (std::size_t c = 0; c < d; ++c) {
      const double delta = sums_[2 * d + c] - shift[c];  // b - a
      sums_[d + c] += 2 * delta * sums_[c] + n * delta * delta;
      sums_[c] += n * delta;
      sums_[2 * d + c] = 0;
    }
    comm.allreduce_sum(sums_);
    for (std::size_t c = 0; c < d; ++c) sums_[2 * d + c] = shift[c];
  }

  void backward_channels(const Tensor& dy, Tensor& dx, Context& ctx) {
    const std::int64_t rows = x_->rows() * d_;
    auto dY = matrix(dy, rows, spatial_).array();
    auto X = matrix(*x_, rows, spatial_).array();
    const float* gamma = params_[0].value.data();
    const float* inv_std = inv_std_.data();
    const float* mean = mean_.data();
    // xhat of row r, as forward computed it
    auto XH = [&](std::int64_t r) { return (X.row(r) - mean[r % d_]) * inv_std[r % d_]; };
    float* dgamma = params_[0].grad.data();
    float* dbeta = params_[1].grad.data();
    sums_.assign(static_cast<std::size_t>(2 * d_), 0.0);
    over_channels(rows, [&](std::int64_t c) {
      double dg = 0, db = 0;
      for (std::int64_t r = c; r < rows; r += d_) {
        dg += static_cast<double>((dY.row(r) * XH(r)).sum());
        db += static_cast<double>(dY.row(r).sum());
      }
      sums_[static_cast<std::size_t>(c)] = dg;
      sums_[static_cast<std::size_t>(d_ + c)] = db;
    });
    for (std::int64_t c = 0; c < d_; ++c) {
      dgamma[c] = static_cast<float>(sums_[static_cast<std::size_t>(c)]);
      dbeta[c] = static_cast<float>(sums_[static_cast<std::size_t>(d_ + c)]);
    }
    if (!ctx.need_input_grad) return;
    dx.resize(dy.shape());
    auto dX = matrix(dx, rows, spatial_).array();
    if (mode_ == Mode::Eval) {
      over_channels(rows, [&](std::int64_t c) {
        for (std::int64_t r = c; r < rows; r += d_) dX.row(r) = dY.row(r) * (gamma[c] * inv_std[c]);
      });
      return;
    }
    // sum of dxhat = sum dy * gamma, sum of dxhat * xhat = sum dy xhat * gamma (over the global
    // batch when synced; the parameter gradients stay this rank's part).
    if (synced_) ctx.comm->allreduce_sum(sums_);
    const auto count = static_cast<float>(count_);
    over_channels(rows, [&](std::int64_t c) {
      const float g = gamma[c];
      const auto sum_dxhat_xhat = static_cast<float>(sums_[static_cast<std::size_t>(c)]) * g;
      const auto sum_dxhat = static_cast<float>(sums_[static_cast<std::size_t>(d_ + c)]) * g;
      for (std::int64_t r = c; r < rows; r += d_) {
        dX.row(r) = ((dY.row(r) * g * count - sum_dxhat) - XH(r) * sum_dxhat_xhat) * (inv_std[c] / count);
      }
    });
  }

  // var = mean over the batch of (x - mean)^2, summed a row at a time so that each feature is
  // a SIMD lane. x - mean is recomputed in normalize() rather than stored: three passes over the
  // batch (mean, var, normalize) instead of five.
  void variance(const Tensor& x) {
    const std::int64_t n = x.rows();
    auto X = matrix(x, n, d_).array();
    auto var = matrix(var_).array();
    const auto mean = matrix(mean_, 1, d_).array();
    var.setZero();
    for (std::int64_t i = 0; i < n; ++i) var += (X.row(i) - mean).square();
    var *= 1.0f / static_cast<float>(n);
  }

  // xhat = (x - mean) * inv_std and y = gamma * xhat + beta, a row at a time: the second
  // expression reads the row of xhat the first just wrote, still in L1, so the batch is read
  // from memory once.
  void normalize(const Tensor& x, Tensor& y) {
    const std::int64_t n = x.rows();
    auto X = matrix(x, n, d_).array();
    auto XH = matrix(xhat_).array();
    auto Y = matrix(y, n, d_).array();
    const auto mean = matrix(mean_, 1, d_).array();
    const auto inv_std = matrix(inv_std_, 1, d_).array();
    const auto gamma = matrix(params_[0].value, 1, d_).array();
    const auto beta = matrix(params_[1].value, 1, d_).array();
    for (std::int64_t i = 0; i < n; ++i) {
      XH.row(i) = (X.row(i) - mean) * inv_std;
      Y.row(i) = XH.row(i) * gamma + beta;
    }
  }

  // Sums count, x and x^2 per feature over every rank into sums_; returns the global count.
  double global_statistics(const ConstMatrixView& X, Communicator& comm) {
    sums_.assign(static_cast<std::size_t>(2 * d_ + 1), 0.0);
    for (std::int64_t i = 0; i < X.rows(); ++i) {
      for (std::int64_t j = 0; j < d_; ++j) {
        const double v = X(i, j);
        sums_[static_cast<std::size_t>(j)] += v;
        sums_[static_cast<std::size_t>(d_ + j)] += v * v;
      }
    }
    sums_.back() = static_cast<double>(X.rows());
    comm.allreduce_sum(sums_);
    return sums_.back();
  }

  // Inference with the running statistics: ONNX BatchNormalization normalizes axis 1, which is
  // the layer's axis for (D) and (C, H, W) samples. Other shapes are normalized per element of
  // the sample: folded into x * scale + shift with constants of the sample's shape.
  std::string export_onnx(OnnxGraph& g, std::span<const OnnxValue> in) const override {
    if (spatial_ > 0 || in[0].shape.rank() == 1) {
      return g.node("BatchNormalization",
                    {in[0].name, g.constant("gamma", params_[0].value), g.constant("beta", params_[1].value),
                     g.constant("running_mean", state_[0].value), g.constant("running_var", state_[1].value)},
                    {{"epsilon", eps_}});
    }
    Tensor scale(in[0].shape), shift(in[0].shape);
    for (std::int64_t j = 0; j < d_; ++j) {
      scale[j] = params_[0].value[j] / std::sqrt(state_[1].value[j] + eps_);
      shift[j] = params_[1].value[j] - state_[0].value[j] * scale[j];
    }
    return g.node("Add", {g.node("Mul", {in[0].name, g.constant("scale", scale)}), g.constant("shift", shift)});
  }

  float momentum_, eps_;
  bool sync_;
  bool synced_ = false;  // this batch's statistics are global
  double count_ = 0;     // samples the statistics were taken over
  std::vector<double> sums_;
  std::string where_;
  std::int64_t d_ = 0;        // features, or channels
  std::int64_t spatial_ = 0;  // height * width of a (channels, height, width) input; 0: flat
  std::vector<double> shift_;
  const Tensor* x_ = nullptr;  // channels mode: the input, alive until backward
  Mode mode_ = Mode::Train;
  std::vector<Param> params_;
  Tensor var_, scale_, sum_dxhat_, sum_dxhat_xhat_;  // per-feature scratch rows
  std::vector<Buffer> state_;
  Tensor mean_, inv_std_, xhat_;
};

void register_types(Registrar& r) {
  r.add<Layer>("batchnorm", "batch normalization per feature, running statistics for eval",
               {Key::number("momentum", "weight of the OLD running statistic (PyTorch's 0.1 = Lamina's 0.9)")
                    .def(0.9)
                    .at_least(0)
                    .below(1),
                Key::number("eps", "added to the variance against division by zero").def(1e-6).above(0),
                Key::boolean("sync",
                             "data-parallel training (mpirun): normalize with the statistics of the whole "
                             "global batch, summed over the ranks, instead of each rank's share")
                    .def(false)},
               [](const Config& c) { return std::make_unique<BatchNorm>(c); });
}

}  // namespace lamina_batchnorm

LAMINA_PLUGIN("batchnorm", LAMINA_VERSION_STRING, "Batch normalization", lamina_batchnorm::register_types)
