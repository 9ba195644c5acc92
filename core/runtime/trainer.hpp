// Trainer: mini-batch training of a built Model.
//
// Each epoch draws a seeded shuffle of the training rows and, per batch:
//   forward (Train) -> loss -> backward -> regularizer gradients -> optimizer step.
// After each epoch it measures the loss and the model's metrics (lamina/metric.hpp: each
// from sums added over the batches and ranks) on the training set, the validation split
// (if any) and the test set, in Eval mode. One seed and one thread count give the same numbers.
//
// Data-parallel (TrainerOptions::comm with several ranks): every rank draws the same shuffle,
// takes its contiguous share of each global batch (train.batch_size), scales its loss gradient
// by share/batch and sums every parameter gradient, the batch's loss and its metric sums in
// ONE allreduce; then each rank adds the regularizer's gradient and steps the optimizer on
// identical numbers, so the weights stay identical without being sent. Dropout draws per-rank
// masks; layer state (BatchNorm's running statistics) is averaged over the ranks after each
// epoch; evaluation is split across the ranks and summed.
#pragma once

#include <cmath>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <memory>
#include <optional>
#include <vector>

#include "lamina/communicator.hpp"
#include "runtime/dataset.hpp"
#include "lamina/error.hpp"
#include "runtime/model.hpp"
#include "runtime/plugin_guard.hpp"

namespace lamina {

namespace detail {
class DataParallel;
}

struct Evaluation {
  double loss = 0;
  // The model's metrics on this split, in the order of Model::metrics: ("accuracy", 0.8632).
  std::vector<std::pair<std::string, double>> metrics;
  // The value of the metric named `name`, NaN when the split has none of that name.
  double metric(std::string_view name) const {
    for (const auto& [n, v] : metrics) {
      if (n == name) return v;
    }
    return NAN;
  }
};

struct EpochMetrics {
  std::int64_t epoch = 0;  // 1-based
  Evaluation train;
  double penalty = 0;  // regularizer penalty at the end of the epoch (0 without one)
  std::optional<Evaluation> validation;
  Evaluation test;
  double seconds = 0;            // wall time of the epoch, evaluation included
  double train_seconds = 0;      // wall time of its training batches alone (what benchmarks compare)
  double allreduce_seconds = 0;  // of which waiting in the gradient allreduce (data-parallel)
  bool best = false;             // a callback marked this epoch's model the best (keep_best)
  std::string stopped;           // why a callback ended the run after this epoch ("" if none)
};

class TrainObserver {
 public:
  virtual ~TrainObserver() = default;
  virtual void on_batch(std::int64_t /*epoch*/, std::int64_t /*batch*/, std::int64_t /*batches*/, float /*loss*/) {}
  virtual void on_epoch(const EpochMetrics& /*m*/) {}
  // Asked after every batch and every epoch: true ends run() early, returning the epochs done.
  virtual bool should_stop() { return false; }
};

struct TrainerOptions {
  bool evaluate_test = true;     // a search never looks at the test set: it skips the pass
  Communicator* comm = nullptr;  // data-parallel ranks; null: this process alone
};

// Thrown when the loss stops being a finite number: in a batch (batch >= 1) or in the
// evaluation after an epoch (batch 0).
class Diverged : public Error {
 public:
  Diverged(const std::string& message, std::int64_t epoch, std::int64_t batch, double loss)
      : Error(message), epoch(epoch), batch(batch), loss(loss) {}
  ~Diverged() override;
  std::int64_t epoch, batch;
  double loss;
};

// Where a run stands after an epoch: what a checkpoint needs besides the tensors.
struct TrainerState {
  std::int64_t epoch = 0;  // epochs finished
  std::string shuffle_rng, layer_rng;
};

class Trainer {
 public:
  Trainer(Model& model, const DataSplits& data, TrainerOptions options = {});
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // Trains from the epoch after state().epoch up to train.epochs.
  std::vector<EpochMetrics> run(TrainObserver* observer = nullptr);
  TrainerState state() const;
  void restore(const TrainerState& state);
  Evaluation evaluate(const DataView& view);
  double penalty();
  // Data-parallel: whether the exception run() threw was thrown on every rank at the same step
  // (a diverged loss, a failure in a batch or an evaluation), so no rank is left waiting.
  bool failure_shared() const;

 private:
  float train_batch(std::span<const std::uint32_t> rows);
  float train_batch_alone(std::span<const std::uint32_t> rows);
  bool parallel() const { return parallel_ != nullptr; }
  // Adds a batch's contributions to every metric's sums; the values from a split's sums.
  void add_metrics(const Tensor& scores, std::span<double> sums);
  std::vector<std::pair<std::string, double>> metric_values(std::span<const double> sums);
  void apply_schedule(const TrainStep& at);
  void augment();         // data.augment on the training batch in x_, targets_
  void before_update();
  void regularize();  // each regularized parameter's add_gradient

  Model& model_;
  const DataSplits& data_;
  TrainerOptions options_;
  std::vector<Param*> params_;
  std::vector<const Regularizer*> param_regularizer_;  // per entry of params_
  std::vector<detail::PluginSite> regularizer_site_;   // per entry of params_ (place: the parameter)
  // Where the other components' calls go, for the plugin guard (runtime/plugin_guard.hpp).
  detail::PluginSite loss_site_, optimizer_site_, schedule_site_;
  std::vector<detail::PluginSite> callback_site_, metric_site_, augment_site_;
  std::vector<std::size_t> metric_offset_;  // per metric, where its sums start; then the total
  Rng shuffle_rng_;
  Rng layer_rng_;
  Tensor x_, dscores_;
  BatchTargets targets_;
  std::vector<std::int32_t> ids_;  // token data: the batch's ids (Context::input_ids)
  std::vector<std::uint32_t> order_;
  std::vector<double> running_;  // metric sums over the epoch's batches (train_metrics: running)
  std::vector<double> batch_sums_;
  std::int64_t epoch_ = 0;    // epochs finished
  std::vector<std::uint32_t> positions_;
  std::unique_ptr<detail::DataParallel> parallel_;  // several ranks: how they share the work
  bool failure_shared_ = false;  // a divergence every rank saw (the loss was summed)
  TrainStep at_;  // the step in progress, for the schedule and the callbacks
};

}  // namespace lamina
