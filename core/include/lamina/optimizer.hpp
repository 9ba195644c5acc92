// Optimizer: an update rule plus per-parameter state (velocities, moments), created on the
// first step and keyed by the parameter's stable name ("layers.0.W"), never its address, so
// the state can be saved and resumed (ensmallen's update policies).
//
// step(params) updates each value in place from its grad; the list holds the same parameters
// in the same order at every step.
#pragma once

#include <span>

#include "lamina/export.hpp"
#include "lamina/kind.hpp"
#include "lamina/param.hpp"

namespace lamina {

class LAMINA_API Optimizer {
 public:
  static constexpr Kind kind = Kind::Optimizer;
  virtual ~Optimizer() = default;

  virtual void step(std::span<Param* const> params) = 0;
};

}  // namespace lamina
