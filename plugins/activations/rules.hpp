// The activation functions, each with its derivative in terms of its output y:
//   relu:    y = max(0, x)          dy/dx = 1 if y > 0 else 0   (0 at the kink, as PyTorch)
//   sigmoid: y = 1 / (1 + e^-x)     dy/dx = y (1 - y)
//   tanh:    y = tanh(x)            dy/dx = 1 - y^2
// Each rule names its ONNX operator (kOnnxOp) and writes into its output view (no Eigen expression is returned, so none can outlive
// the temporaries it refers to).
#pragma once

#include <lamina/eigen.hpp>

namespace lamina_activations {

using lamina::ArrayView;
using lamina::ConstArrayView;

struct Relu {
  static constexpr const char* kOnnxOp = "Relu";
  static void forward(ConstArrayView x, ArrayView y) { y = x.max(0.0f); }
  static void backward(ConstArrayView y, ConstArrayView dy, ArrayView dx) { dx = (y > 0.0f).select(dy, 0.0f); }
};

struct Sigmoid {
  static constexpr const char* kOnnxOp = "Sigmoid";
  // exp(-|x|) never overflows, whichever the sign of x.
  static void forward(ConstArrayView x, ArrayView y) {
    y = (-x.abs()).exp();
    y = (x >= 0.0f).select(1.0f / (1.0f + y), y / (1.0f + y));
  }
  static void backward(ConstArrayView y, ConstArrayView dy, ArrayView dx) { dx = dy * y * (1.0f - y); }
};

struct Tanh {
  static constexpr const char* kOnnxOp = "Tanh";
  static void forward(ConstArrayView x, ArrayView y) { y = x.tanh(); }
  static void backward(ConstArrayView y, ConstArrayView dy, ArrayView dx) { dx = dy * (1.0f - y.square()); }
};

}  // namespace lamina_activations
