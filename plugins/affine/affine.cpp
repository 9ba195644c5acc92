// Affine (fully connected) layer:  y = x W + b
//   x: N x in (a sample of any shape is flattened), W: in x units, b: units.
//   per_position: true applies the same W and b to each position of a sample's last axis instead:
//   a (T, D) sequence becomes (T, units), each of its T rows x_t W + b (Keras's Dense on a
//   sequence, PyTorch's nn.Linear on (N, T, D)). The arithmetic is the same GEMM with N*T rows.
//   backward:  dW = x^T dy,  db = sum over the batch of dy,  dx = dy W^T.
// W is initialized by the `init` initializer with fan_in = in, fan_out = units (He by
// default); b starts at zero. W is marked for weight decay, b is not (the book decays
// weight matrices only).
//
// Eigen packs GEMM operands into blocks on the stack up to EIGEN_STACK_ALLOCATION_LIMIT (128 KB
// by default) and on the heap beyond; a 784-wide layer's blocks reach ~400 KB, which cost heap
// allocations every batch. 1 MB keeps them on the stack (thread stacks are 8 MB).
//
// Threads: Eigen's own parallel GEMM allocates its shared packing buffer on the heap at every
// call. The layer splits each product itself instead — the output's columns (or rows) into one
// contiguous slice per OpenMP thread, each slice a single-threaded Eigen GEMM with its blocks on
// the stack — so a step makes no heap allocation at any thread count. The slices do not share
// a reduction, so a fixed thread count gives the same numbers on every run.
#define EIGEN_STACK_ALLOCATION_LIMIT (1 << 20)
#define EIGEN_DONT_PARALLELIZE
#include <algorithm>
#include <string>

#include <lamina/eigen.hpp>
#include <lamina/initializer.hpp>
#include <lamina/layer.hpp>
#include <lamina/onnx.hpp>
#include <lamina/parallel.hpp>
#include <lamina/plugin.hpp>

namespace lamina_affine {

using namespace lamina;

// 2^28 floats = 1 GiB per weight matrix: far beyond a sane MLP, and it fails fast on typos
// such as `units: 1e12` instead of trying to allocate them.
constexpr std::int64_t kMaxWeights = std::int64_t{1} << 28;

Schema keys() {
  return {
      Key::integer("units", "number of outputs per sample").required().at_least(1).at_most(1 << 20),
      Key::component("init", Kind::Initializer, "weight initializer: a name (he, xavier) or {type: normal, std: 0.01}")
          .def("he"),
      Key::boolean("bias", "add a learnable bias b").def(true),
      Key::boolean("per_position",
                   "apply W to each position of the sample's last axis ((T, D) -> (T, units)) instead of "
                   "flattening the sample")
          .def(false),
  };
}

// Calls f(begin, end) on one slice of [0, n) per thread; slices are multiples of 16 so each
// thread's GEMM keeps whole SIMD panels. Products below ~0.2 MFLOP a thread (where a thread costs
// more than it saves) run on this thread.
template <class F>
void in_slices(std::int64_t n, double flops, F&& f) {
  const auto useful = static_cast<std::int64_t>(flops / 2e5);
  for_ranges(n, threads_for(std::min(n / 16, useful)), 16, [&](int, std::int64_t b, std::int64_t e) { f(b, e); });
}

class Affine final : public Layer, public OnnxExportable {
 public:
  explicit Affine(const Config& cfg)
      : units_(cfg.get<std::int64_t>("units")),
        bias_(cfg.get<bool>("bias")),
        per_position_(cfg.get<bool>("per_position")),
        init_(cfg.make<Initializer>("init")),
        where_(cfg.where("units")) {}

  Shape build(const Shape& input, BuildContext& ctx) override {
    in_ = per_position_ ? input[input.rank() - 1] : input.numel();
    positions_ = input.numel() / in_;
    if (in_ * units_ > kMaxWeights) {
      throw InputError(where_ + ": a " + std::to_string(in_) + " x " + std::to_string(units_) +
                       " weight matrix is larger than the limit of 2^28 weights (1 GiB)");
    }
    params_.clear();
    params_.push_back({"W", Tensor(Shape{in_, units_}), Tensor(Shape{in_, units_}), true});
    init_->fill(params_[0].value, in_, units_, *ctx.rng);
    if (bias_) params_.push_back({"b", Tensor(Shape{units_}), Tensor(Shape{units_}), false});
    if (!per_position_ || input.rank() == 1) return Shape{units_};
    std::vector<std::int64_t> out;
    for (int d = 0; d + 1 < input.rank(); ++d) out.push_back(input[d]);
    out.push_back(units_);
    out_ = Shape::from(out);
    return out_;
  }

  void forward(const Tensor& x, Tensor& y, Context&) override {
    x_ = &x;
    const auto n = x.rows() * positions_;  // rows of the product: samples times positions
    y.resize(positions_ == 1 ? Shape{x.rows(), units_} : out_.batched(x.rows()));
    auto Y = matrix(y, n, units_);
    auto X = matrix(x, n, in_);
    auto W = matrix(params_[0].value);
    const double flops = 2.0 * static_cast<double>(n * in_ * units_);
    if (units_ >= 32) {  // each thread its own columns of y (and of W)
      in_slices(units_, flops, [&](std::int64_t c0, std::int64_t c1) {
        Y.middleCols(c0, c1 - c0).noalias() = X * W.middleCols(c0, c1 - c0);
      });
    } else {  // few outputs: each thread its own samples
      in_slices(n, flops, [&](std::int64_t r0, std::int64_t r1) {
        Y.middleRows(r0, r1 - r0).noalias() = X.middleRows(r0, r1 - r0) * W;
      });
    }
    if (bias_) Y.rowwise() += matrix(params_[1].value, 1, units_).row(0);
  }

  void backward(const Tensor& dy, Tensor& dx, Context& ctx) override {
    const auto n = x_->rows() * positions_;
    auto dY = matrix(dy, n, units_);
    auto X = matrix(*x_, n, in_);
    auto W = matrix(params_[0].value);
    auto dW = matrix(params_[0].grad);
    const double flops = 2.0 * static_cast<double>(n * in_ * units_);
    // dW = x^T dy: each thread its own rows of dW (input features).
    in_slices(in_, flops, [&](std::int64_t r0, std::int64_t r1) {
      dW.middleRows(r0, r1 - r0).noalias() = X.middleCols(r0, r1 - r0).transpose() * dY;
    });
    if (bias_) matrix(params_[1].grad, 1, units_).noalias() = dY.colwise().sum();
    if (ctx.need_input_grad) {
      dx.resize(x_->shape());
      auto dX = matrix(dx, n, in_);
      // dx = dy W^T: each thread its own columns of dx (input features).
      in_slices(in_, flops, [&](std::int64_t c0, std::int64_t c1) {
        dX.middleCols(c0, c1 - c0).noalias() = dY * W.middleRows(c0, c1 - c0).transpose();
      });
    }
  }

  std::span<Param> params() override { return params_; }

  // Gemm(x, W_t, b) with transB = 1, after ONNX Flatten of a sample with more than one
  // dimension (the row-major reading the layer does itself). W_t is W transposed, units x in:
  // PyTorch's layout for Gemm, the one every runtime reads (OpenCV 4.6 refuses transB = 0 with
  // a bias).
  std::string export_onnx(OnnxGraph& g, std::span<const OnnxValue> in) const override {
    if (positions_ > 1) {  // per position: MatMul broadcasts W over (N, T, D); then Add b
      const std::string y = g.node("MatMul", {in[0].name, g.constant("W", params_[0].value)});
      return bias_ ? g.node("Add", {y, g.constant("b", params_[1].value)}) : y;
    }
    std::string x = in[0].name;
    if (in[0].shape.rank() > 1) x = g.node("Flatten", {x}, {{"axis", std::int64_t{1}}});
    Tensor wt(Shape{units_, in_});
    const Tensor& w = params_[0].value;
    for (std::int64_t i = 0; i < in_; ++i) {
      for (std::int64_t j = 0; j < units_; ++j) wt[j * in_ + i] = w[i * units_ + j];
    }
    std::vector<std::string> inputs{x, g.constant("W_t", wt)};
    if (bias_) inputs.push_back(g.constant("b", params_[1].value));
    return g.node("Gemm", std::move(inputs), {{"transB", std::int64_t{1}}});
  }

 private:
  std::int64_t units_;
  bool bias_;
  bool per_position_;
  std::unique_ptr<Initializer> init_;
  std::string where_;
  std::int64_t in_ = 0, positions_ = 1;
  Shape out_;  // the sample's output shape with per_position on a sequence
  std::vector<Param> params_;
  const Tensor* x_ = nullptr;
};

void register_types(Registrar& r) {
  r.add<Layer>("affine", "fully connected layer y = xW + b", keys(),
               [](const Config& c) { return std::make_unique<Affine>(c); });
}

}  // namespace lamina_affine

LAMINA_PLUGIN("affine", LAMINA_VERSION_STRING, "Affine (fully connected) layer", lamina_affine::register_types)
