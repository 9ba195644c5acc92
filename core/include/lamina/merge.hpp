// Merge: a differentiable transformation of SEVERAL tensors into one, N x ... (k times) -> N x ...
// It is the layer of a graph model that joins branches (`add`, `concat`, `multiply`); in the
// model file it is written in `layers:` like any layer, with `inputs: [a, b, ...]` naming the
// layers whose outputs it takes, in that order.
//
// A merge is its own kind rather than a Layer with more virtual functions, so that every layer
// written against ABI 4 keeps loading, and a layer author never meets lists of inputs.
//
// The contract is Layer's (lamina/layer.hpp), once per input:
//   build(inputs, ctx): one per-sample shape per input (at least one; the merge decides how
//     many it accepts and throws lamina::InputError otherwise); returns the output's shape.
//   forward(xs, y, ctx): xs[i] is N x inputs[i]; y is resized and assigned. Every xs[i] stays
//     alive and unchanged until the matching backward(). Two entries may be the same tensor
//     (`inputs: [a, a]`).
//   backward(dy, dxs, ctx): dxs[i] is resized to xs[i]'s shape and ASSIGNED the gradient with
//     respect to input i (never accumulated: the network sums the gradients of a tensor used
//     twice). The dxs are always distinct tensors. ctx.need_input_grad false: none is needed.
//   Each Param::grad is ASSIGNED this batch's gradient.
#pragma once

#include <span>

#include "lamina/context.hpp"
#include "lamina/export.hpp"
#include "lamina/kind.hpp"
#include "lamina/param.hpp"
#include "lamina/tensor.hpp"

namespace lamina {

class LAMINA_API Merge {
 public:
  static constexpr Kind kind = Kind::Merge;
  virtual ~Merge() = default;

  virtual Shape build(std::span<const Shape> inputs, BuildContext& ctx) = 0;
  virtual void forward(std::span<const Tensor* const> xs, Tensor& y, Context& ctx) = 0;
  virtual void backward(const Tensor& dy, std::span<Tensor* const> dxs, Context& ctx) = 0;

  virtual std::span<Param> params() { return {}; }  // learnable (most merges have none)
  virtual std::span<Buffer> state() { return {}; }  // persistent, not learnable
};

}  // namespace lamina
