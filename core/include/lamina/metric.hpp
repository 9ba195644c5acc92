// Metric: a number that says how well the model does on a split, measured after each epoch on
// the training set, the validation split and the test set (a column per split and metric in
// metrics.csv: train_r2, val_r2, test_r2). The model file lists them:
//
//   metrics: [accuracy, {type: top_k_accuracy, k: 3, name: top3}, macro_f1]
//
// and without `metrics:` a model reports the metrics that say is_default() for its targets
// (accuracy for classes, rmse for regression, macro_f1 for label sets).
//
// A metric is computed from sums, so that it is exact however the split is cut into batches and
// ranks: add() adds one batch's contributions to `sums` (sums() of them, zeroed by the host at
// the start of a split), and value() turns the sums of the whole split into the metric. The host
// adds the sums of the batches, and of the ranks of a data-parallel run. A metric that is not a
// mean keeps what its formula needs: correct answers and samples (accuracy); true positives,
// false positives and false negatives per class (macro F1); n, Σy, Σy², Σ(y−ŷ)² per output (R²).
//
// higher_is_better() is the direction that everything ranking by the metric takes from it:
// keep_best, early_stopping, reduce_on_plateau and the search (`metric: val_r2`).
// Scores are the last layer's outputs as the loss sees them (lamina/loss.hpp): logits, not
// probabilities. `lamina check METRIC` checks that sums add up (two halves of a batch give the
// value of the whole), that the value is finite, and that it is the same twice.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "lamina/export.hpp"
#include "lamina/kind.hpp"
#include "lamina/targets.hpp"
#include "lamina/tensor.hpp"

namespace lamina {

class LAMINA_API Metric {
 public:
  static constexpr Kind kind = Kind::Metric;
  virtual ~Metric() = default;

  // The target kinds it is written for; a model listing it for other targets is refused at load.
  virtual bool accepts(TargetKind kind) const = 0;
  virtual bool higher_is_better() const = 0;
  // Whether a model that lists no `metrics:` reports it for targets of `kind`. Only a metric
  // whose keys all have defaults can be one.
  virtual bool is_default(TargetKind kind) const {
    (void)kind;
    return false;
  }
  // How many sums it keeps for outputs of `width` numbers per sample (per position for a class
  // per position): the scores' last dimension, C or K.
  virtual std::size_t sums(std::int64_t width) const = 0;
  // Adds a batch's contributions; `sums` holds sums(width) numbers.
  virtual void add(const Tensor& scores, const Targets& targets, std::span<double> sums) const = 0;
  // The metric of a split from its sums (NaN when it is undefined, e.g. R² of a constant target).
  virtual double value(std::span<const double> sums) const = 0;
};

}  // namespace lamina
