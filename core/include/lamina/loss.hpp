// Loss: turns the last layer's scores (N x C) and integer labels (N, each in [0, C)) into the
// mean loss over the batch, and its gradient with respect to the scores.
//
// forward() returns the mean loss and may keep what backward() needs (e.g. probabilities);
// scores stay alive until backward(). backward() resizes dscores to N x C and assigns it.
#pragma once

#include <cstdint>
#include <span>

#include "lamina/export.hpp"
#include "lamina/kind.hpp"
#include "lamina/tensor.hpp"

namespace lamina {

class LAMINA_API Loss {
 public:
  static constexpr Kind kind = Kind::Loss;
  virtual ~Loss() = default;

  virtual float forward(const Tensor& scores, std::span<const std::int32_t> labels) = 0;
  virtual void backward(Tensor& dscores) = 0;
};

}  // namespace lamina
