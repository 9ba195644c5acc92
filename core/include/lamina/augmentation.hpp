// Augmentation: a random change of each training batch, the regularizer that adds data instead
// of constraining weights (Caffe's transform_param, Keras's preprocessing layers). The model file
// lists them under `data:`, applied in order:
//
//   data: {source: fashion_mnist, augment: [{type: random_crop, padding: 2}, {type: hflip}]}
//
// The host calls apply() on training batches only, never on validation, test or predict
// batches, after they are gathered and scaled. Every random number comes from the Rng it is
// handed, which the host seeds from the run's seed, the augmentation's place in the list and
// the training step: the same seed gives the same run, and --resume continues exactly without
// any state to save. An augmentation is called from one thread; it may split its work over the
// math threads with lamina/parallel.hpp (draw the random numbers first, in sample order, so the
// thread count does not change them). Keep scratch memory as members: a batch in steady state
// should allocate nothing.
#pragma once

#include <cstdint>
#include <span>

#include "lamina/error.hpp"
#include "lamina/export.hpp"
#include "lamina/kind.hpp"
#include "lamina/rng.hpp"
#include "lamina/targets.hpp"
#include "lamina/tensor.hpp"

namespace lamina {

// A batch's targets as an augmentation may change them (lamina/targets.hpp): the values of
// MultiLabel, Regression and ClassProbabilities targets, the indices of class targets.
struct AugmentTargets {
  TargetKind kind = TargetKind::Class;
  std::int64_t count = 0, width = 1;
  std::span<std::int32_t> classes = {};  // Class: N; ClassPerPosition: N x T
  std::span<float> values = {};          // N x width
};

class LAMINA_API Augmentation {
 public:
  static constexpr Kind kind = Kind::Augmentation;
  virtual ~Augmentation() = default;

  // Before training: the kind of targets its batches leave with, for samples of `sample`'s shape
  // (N excluded) arriving with targets of kind `in`. Most keep `in`; mixup makes
  // ClassProbabilities of Class targets, and the host then hands apply() one-hot rows. Throw
  // InputError for a shape or kind it cannot take ("random_crop needs images (C, H, W)").
  virtual TargetKind output_kind(const Shape& sample, TargetKind in) const {
    (void)sample;
    return in;
  }

  // Whether its keys make it change nothing (p: 0, padding: 0): `lamina check` then asks that
  // the output equal the input bit for bit.
  virtual bool is_identity() const { return false; }

  // Changes x (N x the sample shape) and, if it must, the targets' values, in place. The shape
  // of x and the kind of targets stay as they came.
  virtual void apply(Tensor& x, AugmentTargets& targets, Rng& rng) = 0;
};

}  // namespace lamina
