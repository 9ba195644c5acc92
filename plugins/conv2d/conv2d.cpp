// 2-D convolution (cross-correlation, as Caffe's and PyTorch's Conv2d) over samples of
// (channels, height, width):
//   y[f][oy][ox] = b[f] + sum_{c,i,j} W[f][c][i][j] * x[c][oy*sy - pt + i][ox*sx - pl + j]
// W is (filters, channels, kh, kw), PyTorch's layout; b is (filters). He init by default with
// fan_in = channels * kh * kw (fan_out = filters * kh * kw); W is decayed, b is not.
//
// Algorithm: im2col + GEMM, one sample at a time (docs/architecture.md has the measurement that
// chose it). For a sample, col = im2col(x) is K x P (K = channels * kh * kw, P = oh * ow) and
//   forward   Y (filters x P) = W (filters x K) * col            (+ b per row)
//   backward  dW += dY * col^T,  db += row sums of dY,  dcol = W^T * dY,  dx = col2im(dcol)
// Y and dY of one sample are contiguous in the (N, filters, oh, ow) batch, so every product
// writes its result in place. col is recomputed in backward rather than kept from forward:
// keeping it would cost K x P floats per sample (22 MB for a batch of 100 in the CNN's second
// layer, 230 MB in a 1000-sample evaluation batch) to save a copy that costs a few percent.
//
// Threads: the batch's samples are split into one contiguous range per OpenMP thread; each
// thread has its own col buffer and its own dW and db, summed in thread order afterwards, so a
// fixed thread count gives the same numbers on every run. Eigen runs single-threaded inside,
// with its GEMM blocks on the stack: no heap allocation per batch (see plugins/affine).
#define EIGEN_STACK_ALLOCATION_LIMIT (1 << 20)
#define EIGEN_DONT_PARALLELIZE
#include <omp.h>

#include <algorithm>
#include <lamina/eigen.hpp>
#include <lamina/error.hpp>
#include <lamina/initializer.hpp>
#include <lamina/layer.hpp>
#include <lamina/onnx.hpp>
#include <lamina/parallel.hpp>
#include <lamina/plugin.hpp>
#include <string>
#include <vector>

#include "im2col.hpp"

namespace lamina_conv2d {

using namespace lamina;

// Rows of one sample inside a batch start anywhere: these maps assume no alignment.
using Matrix = Eigen::Map<RowMatrix>;
using ConstMatrix = Eigen::Map<const RowMatrix>;

constexpr std::int64_t kMaxWeights = std::int64_t{1} << 28;

Schema keys() {
  return {
      Key::integer("filters", "output channels").required().at_least(1).at_most(1 << 16),
      Key::sizes("kernel", "kernel size: k for k x k, or [kh, kw]").def(3).at_least(1).at_most(255),
      Key::sizes("stride", "step between receptive fields: s, or [sy, sx]").def(1).at_least(1).at_most(255),
      Key::sizes("padding",
                 "zeros around the input: p on every side, [ph, pw], or same (output = ceil(input / stride); "
                 "an odd total puts the extra row and column at the bottom and right, as TensorFlow)")
          .def(0)
          .at_least(0)
          .at_most(255)
          .one_of({"same"}),
      Key::boolean("bias", "add a learnable bias per filter").def(true),
      Key::component("init", Kind::Initializer, "weight initializer (fan_in = channels * kh * kw)").def("he"),
  };
}


// The sum of n floats in eight interleaved partial sums, which the compiler keeps in one vector
// register: Eigen's `dY.rowwise().sum()` (and a plain loop, without -ffast-math) added one float
// at a time and took 40% of conv2d's backward outside the GEMMs.
inline float row_sum(const float* x, std::int64_t n) {
  float part[8] = {};
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j) part[j] += x[i + j];
  }
  float sum = 0.0f;
  for (; i < n; ++i) sum += x[i];
  for (float v : part) sum += v;
  return sum;
}

// Calls f(thread, begin, end) on one contiguous range of samples per thread; returns the
// threads that ran. Small work runs on the calling thread.
template <class F>
int over_samples(std::int64_t n, double flops, F&& f) {
  return for_ranges(n, threads_for(std::min(n, static_cast<std::int64_t>(flops / 2e5))), 1, f);
}

class Conv2d final : public Layer, public OnnxExportable {
 public:
  explicit Conv2d(const Config& c)
      : filters_(c.get<std::int64_t>("filters")),
        kernel_(c.sizes("kernel")),
        stride_(c.sizes("stride")),
        padding_(c.sizes("padding")),
        bias_(c.get<bool>("bias")),
        init_(c.make<Initializer>("init")),
        where_(c.where()) {}

  Shape build(const Shape& input, BuildContext& ctx) override {
    if (input.rank() != 3) {
      throw InputError(where_ + ": conv2d needs samples of (channels, height, width), but its input is " + input.str() +
                       " (a flat input has lost its image shape: put conv2d before any affine or flatten layer)");
    }
    g_.channels = input[0];
    g_.height = input[1];
    g_.width = input[2];
    g_.kh = rows_cols(kernel_)[0];
    g_.kw = rows_cols(kernel_)[1];
    g_.sy = rows_cols(stride_)[0];
    g_.sx = rows_cols(stride_)[1];
    if (padding_.empty()) {  // same
      g_.oh = (g_.height + g_.sy - 1) / g_.sy;
      g_.ow = (g_.width + g_.sx - 1) / g_.sx;
      g_.pt = std::max<std::int64_t>(0, (g_.oh - 1) * g_.sy + g_.kh - g_.height) / 2;
      g_.pl = std::max<std::int64_t>(0, (g_.ow - 1) * g_.sx + g_.kw - g_.width) / 2;
    } else {
      g_.pt = rows_cols(padding_)[0];
      g_.pl = rows_cols(padding_)[1];
      const std::int64_t h = g_.height + 2 * g_.pt - g_.kh, w = g_.width + 2 * g_.pl - g_.kw;
      if (h < 0 || w < 0) {
        throw InputError(where_ + ": a " + std::to_string(g_.kh) + " x " + std::to_string(g_.kw) +
                         " kernel does not fit the padded input of " + input.str());
      }
      g_.oh = h / g_.sy + 1;
      g_.ow = w / g_.sx + 1;
    }
    if (filters_ * g_.k() > kMaxWeights) {
      throw InputError(where_ + ": " + std::to_string(filters_ * g_.k()) +
                       " weights are more than the limit of 2^28 (1 GiB)");
    }
    params_.clear();
    params_.push_back({"W", Tensor(Shape{filters_, g_.channels, g_.kh, g_.kw}),
                       Tensor(Shape{filters_, g_.channels, g_.kh, g_.kw}), true});
    init_->fill(params_[0].value, g_.k(), filters_ * g_.kh * g_.kw, *ctx.rng);
    if (bias_) params_.push_back({"b", Tensor(Shape{filters_}), Tensor(Shape{filters_}), false});
    return Shape{filters_, g_.oh, g_.ow};
  }

  void forward(const Tensor& x, Tensor& y, Context&) override {
    x_ = &x;
    const std::int64_t n = x.rows(), k = g_.k(), p = g_.p();
    y.resize(Shape{n, filters_, g_.oh, g_.ow});
    ensure_buffers();
    const ConstMatrix W(params_[0].value.data(), filters_, k);
    const float* b = bias_ ? params_[1].value.data() : nullptr;
    over_samples(n, flops(n), [&](int t, std::int64_t begin, std::int64_t end) {
      Matrix col(cols_[static_cast<std::size_t>(t)].data(), k, p);
      for (std::int64_t s = begin; s < end; ++s) {
        im2col(g_, x.data() + s * in_size(), col.data());
        Matrix Y(y.data() + s * filters_ * p, filters_, p);
        Y.noalias() = W * col;
        if (b != nullptr) Y.colwise() += Eigen::Map<const Eigen::VectorXf>(b, filters_);
      }
    });
  }

  void backward(const Tensor& dy, Tensor& dx, Context& ctx) override {
    const Tensor& x = *x_;
    const std::int64_t n = x.rows(), k = g_.k(), p = g_.p();
    const bool input_grad = ctx.need_input_grad;
    if (input_grad) dx.resize(x.shape());
    ensure_buffers();
    const ConstMatrix W(params_[0].value.data(), filters_, k);
    const int used = over_samples(n, flops(n) * (input_grad ? 2 : 1), [&](int t, std::int64_t begin, std::int64_t end) {
      const auto ti = static_cast<std::size_t>(t);
      Matrix col(cols_[ti].data(), k, p);
      Matrix dW(dws_[ti].data(), filters_, k);
      Eigen::Map<Eigen::VectorXf> db(dbs_[ti].data(), filters_);
      dW.setZero();
      db.setZero();
      for (std::int64_t s = begin; s < end; ++s) {
        const ConstMatrix dY(dy.data() + s * filters_ * p, filters_, p);
        im2col(g_, x.data() + s * in_size(), col.data());
        dW.noalias() += dY * col.transpose();
        if (bias_) {
          for (std::int64_t f = 0; f < filters_; ++f) db[f] += row_sum(dY.data() + f * p, p);
        }
        if (input_grad) {
          col.noalias() = W.transpose() * dY;  // col now holds dcol
          float* dxs = dx.data() + s * in_size();
          std::fill(dxs, dxs + in_size(), 0.0f);
          col2im_add(g_, col.data(), dxs);
        }
      }
    });
    // The threads' sums, added in thread order: the same numbers on every run.
    Matrix dW(params_[0].grad.data(), filters_, k);
    dW = Matrix(dws_[0].data(), filters_, k);
    for (int t = 1; t < used; ++t) dW += Matrix(dws_[static_cast<std::size_t>(t)].data(), filters_, k);
    if (bias_) {
      Eigen::Map<Eigen::VectorXf> db(params_[1].grad.data(), filters_);
      db = Eigen::Map<Eigen::VectorXf>(dbs_[0].data(), filters_);
      for (int t = 1; t < used; ++t) db += Eigen::Map<Eigen::VectorXf>(dbs_[static_cast<std::size_t>(t)].data(), filters_);
    }
  }

  std::span<Param> params() override { return params_; }

  // ONNX Conv: W is (filters, channels, kh, kw) as stored. The padding at the bottom and right
  // is what the output size needs (more than the top's under `same` with an odd total).
  std::string export_onnx(OnnxGraph& g, std::span<const OnnxValue> in) const override {
    const std::int64_t pb = std::max<std::int64_t>(0, (g_.oh - 1) * g_.sy + g_.kh - g_.height - g_.pt);
    const std::int64_t pr = std::max<std::int64_t>(0, (g_.ow - 1) * g_.sx + g_.kw - g_.width - g_.pl);
    std::vector<std::string> inputs{in[0].name, g.constant("W", params_[0].value)};
    if (bias_) inputs.push_back(g.constant("b", params_[1].value));
    return g.node("Conv", std::move(inputs),
                  {{"kernel_shape", std::vector<std::int64_t>{g_.kh, g_.kw}},
                   {"strides", std::vector<std::int64_t>{g_.sy, g_.sx}},
                   {"pads", std::vector<std::int64_t>{g_.pt, g_.pl, pb, pr}}});
  }

 private:
  std::int64_t in_size() const { return g_.channels * g_.height * g_.width; }
  double flops(std::int64_t n) const { return 2.0 * static_cast<double>(n * filters_ * g_.k() * g_.p()); }

  // One col buffer, one dW and one db per thread, sized once: later batches reuse them.
  void ensure_buffers() {
    const auto threads = static_cast<std::size_t>(std::max(1, omp_get_max_threads()));
    if (cols_.size() < threads) {
      cols_.resize(threads);
      dws_.resize(threads);
      dbs_.resize(threads);
    }
    for (std::size_t t = 0; t < threads; ++t) {
      cols_[t].resize(Shape{g_.k(), g_.p()});
      dws_[t].resize(Shape{filters_, g_.k()});
      dbs_[t].resize(Shape{filters_});
    }
  }

  std::int64_t filters_;
  std::vector<std::int64_t> kernel_, stride_, padding_;  // padding_ empty: same
  bool bias_;
  std::unique_ptr<Initializer> init_;
  std::string where_;
  Geometry g_;
  std::vector<Param> params_;
  std::vector<Tensor> cols_, dws_, dbs_;
  const Tensor* x_ = nullptr;
};

void register_types(Registrar& r) {
  r.add<Layer>("conv2d", "2-D convolution over (channels, height, width) samples (im2col + GEMM)", keys(),
               [](const Config& c) { return std::make_unique<Conv2d>(c); });
}

}  // namespace lamina_conv2d

LAMINA_PLUGIN("conv2d", LAMINA_VERSION_STRING, "2-D convolution layer", lamina_conv2d::register_types)
