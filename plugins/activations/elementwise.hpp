// One layer class for every element-wise activation: a Rule supplies y = f(x) and the backward
// pass written in terms of the output y (so backward needs only y, kept from forward).
#pragma once

#include <lamina/eigen.hpp>
#include <lamina/layer.hpp>
#include <lamina/onnx.hpp>
#include <lamina/parallel.hpp>

namespace lamina_activations {

// Calls f(begin, end) on one contiguous range of [0, n) per thread, each starting on a 64-byte
// boundary (the views are aligned maps). Below 2^16 values one thread does it all: an image
// batch (100 x 32 x 28 x 28) is worth splitting, a hidden layer of an MLP is not. Elementwise:
// the numbers do not depend on the split.
template <class F>
void in_ranges(std::int64_t n, F&& f) {
  lamina::for_ranges(n, lamina::threads_for(n >> 16), 16, [&](int, std::int64_t b, std::int64_t e) { f(b, e); });
}

template <class Rule>
class Elementwise final : public lamina::Layer, public lamina::OnnxExportable {
 public:
  lamina::Shape build(const lamina::Shape& input, lamina::BuildContext&) override { return input; }

  void forward(const lamina::Tensor& x, lamina::Tensor& y, lamina::Context&) override {
    y.resize(x.shape());
    in_ranges(x.size(), [&](std::int64_t b, std::int64_t e) {
      Rule::forward(lamina::ConstArrayView(x.data() + b, e - b), lamina::ArrayView(y.data() + b, e - b));
    });
    y_ = &y;
  }

  void backward(const lamina::Tensor& dy, lamina::Tensor& dx, lamina::Context& ctx) override {
    if (!ctx.need_input_grad) return;
    dx.resize(dy.shape());
    in_ranges(dy.size(), [&](std::int64_t b, std::int64_t e) {
      Rule::backward(lamina::ConstArrayView(y_->data() + b, e - b), lamina::ConstArrayView(dy.data() + b, e - b),
                     lamina::ArrayView(dx.data() + b, e - b));
    });
  }

  std::string export_onnx(lamina::OnnxGraph& g, std::span<const lamina::OnnxValue> in) const override {
    return g.node(Rule::kOnnxOp, {in[0].name});
  }

 private:
  const lamina::Tensor* y_ = nullptr;
};

}  // namespace lamina_activations
