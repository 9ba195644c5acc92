// conv1d: a 1-D convolution over the steps of a (T, D) sequence, written against the SDK alone
// (lamina/layer.hpp and friends), as a third party would write one:
//   y[t, f] = b[f] + sum_{j < k, c < D} x[t + j - p, c] * W[j * D + c, f]     p = (k - 1) / 2 with
//   `padding: same` (zeros outside the sequence; T' = T), p = 0 with `valid` (T' = T - k + 1).
// Per sample, the k steps each output step reads are laid side by side (im2col: (T', k D)), so
// the convolution is one GEMM with W (k D, F); backward is the transposed products, and the
// columns' gradients are added back onto the steps they came from.
#include <lamina/eigen.hpp>
#include <lamina/initializer.hpp>
#include <lamina/layer.hpp>
#include <lamina/plugin.hpp>

#include <string>
#include <vector>

namespace {

using namespace lamina;

class Conv1d final : public Layer {
 public:
  explicit Conv1d(const Config& c)
      : filters_(c.get<std::int64_t>("filters")),
        k_(c.get<std::int64_t>("kernel")),
        same_(c.get<std::string>("padding") == "same"),
        init_(c.make<Initializer>("init")),
        where_(c.where()) {}

  Shape build(const Shape& input, BuildContext& ctx) override {
    if (input.rank() != 2) {
      throw InputError(where_ + ": conv1d needs samples of (T, D), a sequence of vectors; got " + input.str());
    }
    t_ = input[0];
    d_ = input[1];
    pad_ = same_ ? (k_ - 1) / 2 : 0;
    out_t_ = same_ ? t_ : t_ - k_ + 1;
    if (out_t_ < 1) {
      throw InputError(where_ + ": a kernel of " + std::to_string(k_) + " steps is longer than the " +
                       std::to_string(t_) + " steps of the sequence (padding: valid)");
    }
    params_.clear();
    params_.push_back({"W", Tensor(Shape{k_ * d_, filters_}), Tensor(Shape{k_ * d_, filters_}), true});
    params_.push_back({"b", Tensor(Shape{filters_}), Tensor(Shape{filters_}), false});
    init_->fill(params_[0].value, k_ * d_, filters_, *ctx.rng);
    return Shape{out_t_, filters_};
  }

  void forward(const Tensor& x, Tensor& y, Context&) override {
    x_ = &x;
    const std::int64_t n = x.rows();
    cols_.resize(Shape{n * out_t_, k_ * d_});
    cols_.zero();
    for (std::int64_t s = 0; s < n; ++s) {
      for (std::int64_t t = 0; t < out_t_; ++t) {
        for (std::int64_t j = 0; j < k_; ++j) {
          const std::int64_t from = t + j - pad_;
          if (from < 0 || from >= t_) continue;  // zero padding
          const float* src = x.data() + (s * t_ + from) * d_;
          std::copy(src, src + d_, cols_.data() + (s * out_t_ + t) * k_ * d_ + j * d_);
        }
      }
    }
    y.resize(Shape{n, out_t_, filters_});
    auto Y = matrix(y, n * out_t_, filters_);
    Y.noalias() = matrix(cols_) * matrix(params_[0].value);
    Y.rowwise() += matrix(params_[1].value, 1, filters_).row(0);
  }

  void backward(const Tensor& dy, Tensor& dx, Context& ctx) override {
    const std::int64_t n = x_->rows();
    const auto DY = matrix(dy, n * out_t_, filters_);
    matrix(params_[0].grad).noalias() = matrix(cols_).transpose() * DY;
    matrix(params_[1].grad, 1, filters_).noalias() = DY.colwise().sum();
    if (!ctx.need_input_grad) return;
    dcols_.resize(cols_.shape());
    matrix(dcols_).noalias() = DY * matrix(params_[0].value).transpose();
    dx.resize(x_->shape());
    dx.zero();
    for (std::int64_t s = 0; s < n; ++s) {
      for (std::int64_t t = 0; t < out_t_; ++t) {
        for (std::int64_t j = 0; j < k_; ++j) {
          const std::int64_t to = t + j - pad_;
          if (to < 0 || to >= t_) continue;
          const float* g = dcols_.data() + (s * out_t_ + t) * k_ * d_ + j * d_;
          float* out = dx.data() + (s * t_ + to) * d_;
          for (std::int64_t c = 0; c < d_; ++c) out[c] += g[c];
        }
      }
    }
  }

  std::span<Param> params() override { return params_; }

 private:
  std::int64_t filters_, k_;
  bool same_;
  std::unique_ptr<Initializer> init_;
  std::string where_;
  std::int64_t t_ = 0, d_ = 0, pad_ = 0, out_t_ = 0;
  std::vector<Param> params_;
  const Tensor* x_ = nullptr;
  Tensor cols_, dcols_;
};

void register_types(Registrar& r) {
  r.add<Layer>("conv1d", "1-D convolution over the steps of a (T, D) sequence (an out-of-tree example)",
               {Key::integer("filters", "output features per step").required().at_least(1).at_most(1 << 16),
                Key::integer("kernel", "steps each output reads").def(3).at_least(1).at_most(1024),
                Key::string("padding", "same (zeros around: T steps out) or valid (T - kernel + 1)")
                    .def("same")
                    .one_of({"same", "valid"}),
                Key::component("init", Kind::Initializer, "weight initializer (fan_in = kernel * D)").def("he")},
               [](const Config& c) { return std::make_unique<Conv1d>(c); });
}

}  // namespace

LAMINA_PLUGIN("conv1d", "1.0.0", "Example: a 1-D convolution over time", register_types)
