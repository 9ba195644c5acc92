// Loss: turns the last layer's scores and a batch's targets (lamina/targets.hpp) into the mean
// loss over the batch, and its gradient with respect to the scores.
//
// Scores are (N, C) for class and multi-label targets, (N, K) for regression and (N, T, C) for a
// class per position. forward() returns the mean loss (over samples; over positions too for
// ClassPerPosition) and may keep what backward() needs (e.g. probabilities); scores and targets
// stay alive until backward(). backward() resizes dscores to the scores' shape and assigns it.
//
// accepts() says which target kinds the loss is written for; the host refuses a model whose
// data gives another kind, before training, naming the loss and the data. The default is the
// one kind every loss before SDK 5 took: a class index per sample.
#pragma once

#include <cstdint>

#include "lamina/export.hpp"
#include "lamina/kind.hpp"
#include "lamina/targets.hpp"
#include "lamina/tensor.hpp"

namespace lamina {

class LAMINA_API Loss {
 public:
  static constexpr Kind kind = Kind::Loss;
  virtual ~Loss() = default;

  virtual bool accepts(TargetKind kind) const { return kind == TargetKind::Class; }
  virtual float forward(const Tensor& scores, const Targets& targets) = 0;
  virtual void backward(Tensor& dscores) = 0;
};

}  // namespace lamina
