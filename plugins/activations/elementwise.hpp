// One layer class for every element-wise activation: a Rule supplies y = f(x) and the backward
// pass written in terms of the output y (so backward needs only y, kept from forward).
#pragma once

#include <lamina/eigen.hpp>
#include <lamina/layer.hpp>

namespace lamina_activations {

template <class Rule>
class Elementwise final : public lamina::Layer {
 public:
  lamina::Shape build(const lamina::Shape& input, lamina::BuildContext&) override { return input; }

  void forward(const lamina::Tensor& x, lamina::Tensor& y, lamina::Context&) override {
    y.resize(x.shape());
    Rule::forward(lamina::array(x), lamina::array(y));
    y_ = &y;
  }

  void backward(const lamina::Tensor& dy, lamina::Tensor& dx, lamina::Context& ctx) override {
    if (!ctx.need_input_grad) return;
    dx.resize(dy.shape());
    Rule::backward(lamina::array(*y_), lamina::array(dy), lamina::array(dx));
  }

 private:
  const lamina::Tensor* y_ = nullptr;
};

}  // namespace lamina_activations
