// concat: inputs joined along one axis of the sample — channels of (C, H, W) images, features
// of (D) vectors (Keras's Concatenate, Caffe's Concat, ONNX's Concat). The other dimensions
// must agree. A sample is row-major, so each input contributes one contiguous chunk per
// (sample, index before the axis): the join is a sequence of copies.
#include <lamina/error.hpp>
#include <lamina/merge.hpp>
#include <lamina/onnx.hpp>
#include <lamina/parallel.hpp>
#include <lamina/schema.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "merges.hpp"

namespace lamina_merge {
namespace {

class Concat final : public lamina::Merge, public lamina::OnnxExportable {
 public:
  // ONNX Concat along the same axis counted in the batch: one more than the sample's.
  std::string export_onnx(lamina::OnnxGraph& g, std::span<const lamina::OnnxValue> in) const override {
    const int rank = in[0].shape.rank();
    std::vector<std::string> names;
    for (const auto& v : in) names.push_back(v.name);
    return g.node("Concat", std::move(names), {{"axis", (axis_ < 0 ? axis_ + rank : axis_) + 1}});
  }
  explicit Concat(const lamina::Config& c) : axis_(c.get<std::int64_t>("axis")) {}

  lamina::Shape build(std::span<const lamina::Shape> inputs, lamina::BuildContext&) override {
    if (inputs.size() < 2) {
      throw lamina::InputError("concat needs at least two inputs, `inputs` names " + std::to_string(inputs.size()));
    }
    const int rank = inputs[0].rank();
    const std::int64_t axis = axis_ < 0 ? axis_ + rank : axis_;
    if (axis < 0 || axis >= rank) {
      throw lamina::InputError("axis " + std::to_string(axis_) + " is outside a sample of shape " +
                               inputs[0].str() + " (axes 0.." + std::to_string(rank - 1) + ", or -1 for the last)");
    }
    std::int64_t dims[lamina::Shape::kMaxRank] = {};
    for (int i = 0; i < rank; ++i) dims[i] = inputs[0][i];
    dims[axis] = 0;
    chunks_.clear();
    for (std::size_t k = 0; k < inputs.size(); ++k) {
      bool agree = inputs[k].rank() == rank;
      for (int i = 0; agree && i < rank; ++i) agree = i == axis || inputs[k][i] == inputs[0][i];
      if (!agree) {
        throw lamina::InputError("concat along axis " + std::to_string(axis) + ": input 0 is " + inputs[0].str() +
                                 " per sample, input " + std::to_string(k) + " is " + inputs[k].str() +
                                 "; all dimensions but the axis must agree");
      }
      dims[axis] += inputs[k][static_cast<int>(axis)];
    }
    std::int64_t inner = 1;
    outer_ = 1;
    for (int i = 0; i < axis; ++i) outer_ *= dims[i];
    for (int i = static_cast<int>(axis) + 1; i < rank; ++i) inner *= dims[i];
    for (const auto& s : inputs) chunks_.push_back(s[static_cast<int>(axis)] * inner);
    inputs_.assign(inputs.begin(), inputs.end());
    out_ = lamina::Shape::from(std::span<const std::int64_t>(dims, static_cast<std::size_t>(rank)));
    return out_;
  }

  void forward(std::span<const lamina::Tensor* const> xs, lamina::Tensor& y, lamina::Context&) override {
    const std::int64_t rows = xs[0]->rows();
    y.resize(batched(rows, out_));
    const std::int64_t row = out_.numel() / outer_;  // the output's elements per outer index
    over_runs(rows * outer_, row, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t o = b; o < e; ++o) {
        float* to = y.data() + o * row;
        for (std::size_t k = 0; k < xs.size(); ++k) {
          const float* from = xs[k]->data() + o * chunks_[k];
          to = std::copy(from, from + chunks_[k], to);
        }
      }
    });
  }

  void backward(const lamina::Tensor& dy, std::span<lamina::Tensor* const> dxs, lamina::Context& ctx) override {
    if (!ctx.need_input_grad) return;
    const std::int64_t rows = dy.rows();
    const std::int64_t row = out_.numel() / outer_;
    std::int64_t before = 0;
    for (std::size_t k = 0; k < dxs.size(); ++k) {
      lamina::Tensor& dx = *dxs[k];
      dx.resize(batched(rows, inputs_[k]));
      const std::int64_t chunk = chunks_[k];
      over_runs(rows * outer_, row, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t o = b; o < e; ++o) {
          const float* from = dy.data() + o * row + before;
          std::copy(from, from + chunk, dx.data() + o * chunk);
        }
      });
      before += chunk;
    }
  }

 private:
  std::int64_t axis_;
  std::int64_t outer_ = 1;  // product of the sample's dimensions before the axis
  std::vector<std::int64_t> chunks_;  // per input: its elements per outer index
  std::vector<lamina::Shape> inputs_;
  lamina::Shape out_;

  // runs [0, n) of `len` elements each, split over threads when they add up to enough work
  template <class F>
  static void over_runs(std::int64_t n, std::int64_t len, F&& f) {
    lamina::for_ranges(n, lamina::threads_for(std::min(n, n * len >> 16)), 1,
                       [&](int, std::int64_t b, std::int64_t e) { f(b, e); });
  }
};

}  // namespace

void register_concat(lamina::Registrar& r) {
  r.add<lamina::Merge>(
      "concat", "inputs joined along one axis of the sample (channels of images, features of vectors)",
      {lamina::Key::integer("axis", "the sample's axis to join along: 0 = channels of (C, H, W) or features of (D); "
                                    "-1 = the last")
           .def(0)
           .at_least(-3)
           .at_most(2)},
      [](const lamina::Config& c) { return std::make_unique<Concat>(c); });
}

}  // namespace lamina_merge
