// sequence_pool: a (T, D) sequence to one (D) vector, for a classifier after a recurrent or
// attention stack:  mean (over t), max (per feature; the gradient goes to the first maximum),
// first (t = 0, BERT's [CLS] position), last (t = T - 1).
// ONNX: ReduceMean / ReduceMax over axis 1, or a Gather of one index on axis 1, then Flatten.
#include <lamina/eigen.hpp>
#include <lamina/layer.hpp>
#include <lamina/onnx.hpp>
#include <lamina/plugin.hpp>
#include <string>
#include <vector>

namespace lamina_sequence_pool {

using namespace lamina;

enum class How { Mean, Max, First, Last };

How how_of(const std::string& s) {
  return s == "mean" ? How::Mean : s == "max" ? How::Max : s == "first" ? How::First : How::Last;
}

class SequencePool final : public Layer, public OnnxExportable {
 public:
  explicit SequencePool(const Config& c) : how_(how_of(c.get<std::string>("mode"))), where_(c.where()) {}

  Shape build(const Shape& input, BuildContext&) override {
    if (input.rank() != 2) {
      throw InputError(where_ + ": sequence_pool needs samples of (T, D), a sequence of vectors; got " + input.str());
    }
    t_ = input[0];
    d_ = input[1];
    return Shape{d_};
  }

  void forward(const Tensor& x, Tensor& y, Context&) override {
    const std::int64_t n = x.rows();
    y.resize(Shape{n, d_});
    if (how_ == How::Max) argmax_.resize(static_cast<std::size_t>(n * d_));
    for (std::int64_t s = 0; s < n; ++s) {
      const auto X = matrix(x, n * t_, d_).middleRows(s * t_, t_);
      auto Y = matrix(y, n, d_).row(s);
      switch (how_) {
        case How::Mean:
          Y = X.colwise().mean();
          break;
        case How::First:
          Y = X.row(0);
          break;
        case How::Last:
          Y = X.row(t_ - 1);
          break;
        case How::Max:
          for (std::int64_t j = 0; j < d_; ++j) {
            Eigen::Index at = 0;
            Y(j) = X.col(j).maxCoeff(&at);
            argmax_[static_cast<std::size_t>(s * d_ + j)] = static_cast<std::int32_t>(at);
          }
          break;
      }
    }
  }

  void backward(const Tensor& dy, Tensor& dx, Context& ctx) override {
    if (!ctx.need_input_grad) return;
    const std::int64_t n = dy.rows();
    dx.resize(Shape{n, t_, d_});
    dx.zero();
    for (std::int64_t s = 0; s < n; ++s) {
      auto DX = matrix(dx, n * t_, d_).middleRows(s * t_, t_);
      const auto DY = matrix(dy, n, d_).row(s);
      switch (how_) {
        case How::Mean:
          DX.rowwise() = DY / static_cast<float>(t_);
          break;
        case How::First:
          DX.row(0) = DY;
          break;
        case How::Last:
          DX.row(t_ - 1) = DY;
          break;
        case How::Max:
          for (std::int64_t j = 0; j < d_; ++j) DX(argmax_[static_cast<std::size_t>(s * d_ + j)], j) = DY(j);
          break;
      }
    }
  }

  std::string export_onnx(OnnxGraph& g, std::span<const OnnxValue> in) const override {
    // Every mode ends in a Flatten to (N, D): OpenCV 4.6 keeps a reduced axis internally, and
    // its Concat then refuses to join a reduction with another mode's output.
    const std::vector<std::int64_t> time{1};
    switch (how_) {
      case How::Mean:
        return g.node("Flatten", {g.node("ReduceMean", {in[0].name}, {{"axes", time}, {"keepdims", std::int64_t{1}}})},
                      {{"axis", std::int64_t{1}}});
      case How::Max:
        return g.node("Flatten", {g.node("ReduceMax", {in[0].name}, {{"axes", time}, {"keepdims", std::int64_t{1}}})},
                      {{"axis", std::int64_t{1}}});
      case How::First:
      case How::Last: {
        const std::vector<std::int64_t> at{how_ == How::First ? 0 : t_ - 1};
        // Gather with a 1-D index keeps the axis: (N, 1, D), then flattened to (N, D).
        return g.node("Flatten", {g.node("Gather", {in[0].name, g.constant_ints("step", at)}, {{"axis", std::int64_t{1}}})},
                      {{"axis", std::int64_t{1}}});
      }
    }
    return {};
  }

 private:
  How how_;
  std::string where_;
  std::int64_t t_ = 0, d_ = 0;
  std::vector<std::int32_t> argmax_;
};

void register_types(Registrar& r) {
  r.add<Layer>("sequence_pool", "a (T, D) sequence to one (D) vector: mean, max, first or last step",
               {Key::string("mode", "how the steps become one: mean, max (per feature), first, last")
                    .def("mean")
                    .one_of({"mean", "max", "first", "last"})},
               [](const Config& c) { return std::make_unique<SequencePool>(c); });
}

}  // namespace lamina_sequence_pool

LAMINA_PLUGIN("sequence_pool", LAMINA_VERSION_STRING, "Pooling a sequence over its steps", lamina_sequence_pool::register_types)
