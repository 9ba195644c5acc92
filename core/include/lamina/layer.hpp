// Layer: one differentiable transformation of a batch, N x ... -> N x ...
//
// Life cycle (Caffe's SetUp/Reshape split): the factory reads options from a Config; build()
// sizes the layer from the shape of ONE sample (no batch dimension: (784) for Fashion-MNIST), allocates and initializes
// every parameter and buffer, and returns the shape of one output sample; forward()/backward() then run once per batch
// and allocate nothing in steady state (they may resize() their outputs, which reuses capacity).
//
// Contract of forward(x, y, ctx):
//   x: N x input_shape (N may differ between calls, e.g. the last batch of an epoch).
//   y: resized by the layer to N x output_shape and assigned (not accumulated).
//   x and y stay alive and unchanged until the matching backward(), so a layer may keep
//   pointers to them instead of copies.
// Contract of backward(dy, dx, ctx):
//   dy: gradient of the loss w.r.t. y, same shape as y.
//   dx: resized to x's shape and assigned (skipped when ctx.need_input_grad is false).
//   Each Param::grad is ASSIGNED the gradient of this batch (not accumulated).
//   ctx.mode and the random stream are those of the matching forward().
#pragma once

#include <span>

#include "lamina/context.hpp"
#include "lamina/export.hpp"
#include "lamina/kind.hpp"
#include "lamina/param.hpp"
#include "lamina/tensor.hpp"

namespace lamina {

class LAMINA_API Layer {
 public:
  static constexpr Kind kind = Kind::Layer;
  virtual ~Layer() = default;

  virtual Shape build(const Shape& input, BuildContext& ctx) = 0;
  virtual void forward(const Tensor& x, Tensor& y, Context& ctx) = 0;
  virtual void backward(const Tensor& dy, Tensor& dx, Context& ctx) = 0;

  virtual std::span<Param> params() { return {}; }  // learnable
  virtual std::span<Buffer> state() { return {}; }  // persistent, not learnable
};

}  // namespace lamina
