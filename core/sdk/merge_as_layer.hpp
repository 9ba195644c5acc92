// MergeAsLayer: a merge seen as a one-input layer, so that every check written for layers (the
// gradient check, `lamina check`'s mode switching, determinism and reload checks) runs on
// merges unchanged. The one input is the k inputs flattened and laid side by side: a sample of
// shape (sum of their sizes) is cut into k samples of the given shapes.
#pragma once

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "lamina/layer.hpp"
#include "lamina/merge.hpp"

namespace lamina::detail {

class MergeAsLayer final : public Layer {
 public:
  MergeAsLayer(std::unique_ptr<Merge> merge, std::vector<Shape> inputs)
      : owned_(std::move(merge)), merge_(owned_.get()), shapes_(std::move(inputs)), xs_(shapes_.size()),
        dxs_(shapes_.size()) {}
  MergeAsLayer(Merge& merge, std::vector<Shape> inputs)  // not owned
      : merge_(&merge), shapes_(std::move(inputs)), xs_(shapes_.size()), dxs_(shapes_.size()) {}

  // The stacked shape to build (and feed) this layer with.
  static Shape stacked(const std::vector<Shape>& inputs) {
    std::int64_t n = 0;
    for (const auto& s : inputs) n += s.numel();
    return Shape{n};
  }

  Shape build(const Shape&, BuildContext& ctx) override { return merge_->build(shapes_, ctx); }

  void forward(const Tensor& x, Tensor& y, Context& ctx) override {
    std::int64_t offset = 0;
    for (std::size_t k = 0; k < shapes_.size(); ++k) {
      xs_[k].resize(batched(x.rows(), shapes_[k]));
      const std::int64_t n = shapes_[k].numel();
      for (std::int64_t r = 0; r < x.rows(); ++r) {
        const float* from = x.data() + r * x.cols() + offset;
        std::copy(from, from + n, xs_[k].data() + r * n);
      }
      offset += n;
    }
    std::vector<const Tensor*> in;
    for (auto& t : xs_) in.push_back(&t);
    merge_->forward(in, y, ctx);
  }

  void backward(const Tensor& dy, Tensor& dx, Context& ctx) override {
    std::vector<Tensor*> out;
    for (auto& t : dxs_) out.push_back(&t);
    merge_->backward(dy, out, ctx);
    if (!ctx.need_input_grad) return;
    const std::int64_t rows = dy.rows();
    dx.resize(Shape{rows, stacked(shapes_)[0]});
    std::int64_t offset = 0;
    for (std::size_t k = 0; k < shapes_.size(); ++k) {
      const std::int64_t n = shapes_[k].numel();
      for (std::int64_t r = 0; r < rows; ++r) {
        const float* from = dxs_[k].data() + r * n;
        std::copy(from, from + n, dx.data() + r * dx.cols() + offset);
      }
      offset += n;
    }
  }

  std::span<Param> params() override { return merge_->params(); }
  std::span<Buffer> state() override { return merge_->state(); }

 private:
  static Shape batched(std::int64_t rows, const Shape& sample) {
    std::int64_t dims[Shape::kMaxRank] = {rows};
    for (int i = 0; i < sample.rank(); ++i) dims[i + 1] = sample[i];
    return Shape::from(std::span<const std::int64_t>(dims, static_cast<std::size_t>(sample.rank() + 1)));
  }

  std::unique_ptr<Merge> owned_;
  Merge* merge_;
  std::vector<Shape> shapes_;
  std::vector<Tensor> xs_, dxs_;
};

}  // namespace lamina::detail
