// Regularizer: a penalty on parameters marked `decay` (weights, never biases or BatchNorm's
// gamma/beta). Set once for the model (`regularizer:`) and overridable per layer (a layer's
// own `regularizer:` key), as Keras's kernel_regularizer.
//
// penalty(p) is added to the loss; add_gradient(p) ADDS d penalty / d value to p.grad (after
// the layer's backward has assigned the data gradient).
#pragma once

#include "lamina/export.hpp"
#include "lamina/kind.hpp"
#include "lamina/param.hpp"

namespace lamina {

class LAMINA_API Regularizer {
 public:
  static constexpr Kind kind = Kind::Regularizer;
  virtual ~Regularizer() = default;

  virtual float penalty(const Param& p) const = 0;
  virtual void add_gradient(Param& p) const = 0;
};

}  // namespace lamina
