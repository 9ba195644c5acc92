// Numerical gradient checks, in the style of Caffe's GradientChecker: central differences
// f(v + h) - f(v - h) / 2h against the analytic backward pass, for a layer's input and every
// parameter, and for a loss's scores. The layer is reduced to a scalar by f = sum(y * r) with a
// fixed random r, so every output contributes. The random stream is copied before the first
// forward and restored before each one, so stochastic layers (dropout) replay the same mask.
//
//   auto results = lamina::check_layer_gradients(layer, lamina::Shape{5}, {});
//   for (auto& r : results) BOOST_TEST(r.ok);
//
// Errors are relative, |analytic - numeric| / max(|analytic|, |numeric|, floor), and the check
// computes in float as the layers do, hence the default tolerance of 1e-2.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "lamina/context.hpp"
#include "lamina/export.hpp"
#include "lamina/layer.hpp"
#include "lamina/loss.hpp"
#include "lamina/merge.hpp"
#include "lamina/regularizer.hpp"

namespace lamina {

struct GradCheckOptions {
  std::int64_t batch = 4;
  float step = 1e-2f;  // h; float math needs a large one
  double tolerance = 1e-2;
  double floor = 1e-2;            // denominators below this count as this (near-zero gradients)
  std::int64_t max_checks = 256;  // elements checked per tensor (spread evenly)
  float input_min_abs = 0.1f;     // inputs lie in ±[min_abs, 1]: away from the kinks at 0
  Mode mode = Mode::Train;
  std::uint64_t seed = 1;
};

struct GradCheckResult {
  std::string tensor;    // "input", "W", "b", "scores"
  double max_error = 0;  // the largest relative error found
  std::int64_t checked = 0;
  bool ok = false;
};

// Builds `layer` for `sample_shape` (so pass a fresh layer) and checks it.
LAMINA_API std::vector<GradCheckResult> check_layer_gradients(Layer& layer, const Shape& sample_shape,
                                                              const GradCheckOptions& options);
// The same for a layer whose inputs are token ids (an embedding): random ids below `vocabulary`
// reach forward both as the input's values and as Context::input_ids; ids have no gradient, so
// only the parameters are checked.
LAMINA_API std::vector<GradCheckResult> check_layer_gradients_on_ids(Layer& layer, const Shape& sample_shape,
                                                                     std::int64_t vocabulary,
                                                                     const GradCheckOptions& options);
// The same for a merge taking inputs of these shapes: the result "input" covers all of them.
LAMINA_API std::vector<GradCheckResult> check_merge_gradients(Merge& merge, std::span<const Shape> inputs,
                                                              const GradCheckOptions& options);
// Random scores and random targets of `kind` (for a class per position: 3 positions); `outputs`
// is the number of classes, labels or regression outputs per sample (or per position).
LAMINA_API GradCheckResult check_loss_gradients(Loss& loss, TargetKind kind, std::int64_t outputs,
                                                const GradCheckOptions& options);
// add_gradient against differences of penalty, on a decayed parameter of `shape`.
LAMINA_API GradCheckResult check_regularizer_gradients(const Regularizer& regularizer, const Shape& shape,
                                                       const GradCheckOptions& options);

}  // namespace lamina
