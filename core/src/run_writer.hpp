// The run folder's writer during training, as a TrainObserver: metrics.csv and metrics.json after
// every epoch, iterations.csv (the batch losses every train.log_every steps), then the checkpoint.
// The console is another observer (console_progress.hpp); train.cpp joins the two.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "runtime/trainer.hpp"

namespace lamina::detail {

class RunWriter : public TrainObserver {
 public:
  // `history` and `iterations` are what a resumed run had written (empty for a new one);
  // `checkpoint` saves the model after each epoch's metrics.
  RunWriter(std::filesystem::path dir, std::int64_t log_every, std::vector<EpochMetrics> history,
            std::string iterations, std::function<void(const EpochMetrics&)> checkpoint,
            std::vector<std::string> metrics);

  void on_batch(std::int64_t epoch, std::int64_t batch, std::int64_t batches, float loss) override;
  void on_epoch(const EpochMetrics& m) override;

  const std::vector<EpochMetrics>& history() const { return history_; }
  const std::vector<std::string>& metric_names() const { return metrics_; }
  // iterations.csv as it stands (also on divergence, when no epoch ends).
  void write_iterations() const;

 private:
  std::filesystem::path dir_;
  std::vector<std::string> metrics_;
  std::int64_t log_every_;
  std::vector<EpochMetrics> history_;
  std::string iterations_;
  std::function<void(const EpochMetrics&)> checkpoint_;
};

// Several observers as one: each told in turn; stop when `stop` says so.
class Observers : public TrainObserver {
 public:
  Observers(std::vector<TrainObserver*> each, std::function<bool()> stop)
      : each_(std::move(each)), stop_(std::move(stop)) {}
  void on_batch(std::int64_t epoch, std::int64_t batch, std::int64_t batches, float loss) override {
    for (auto* o : each_) o->on_batch(epoch, batch, batches, loss);
  }
  void on_epoch(const EpochMetrics& m) override {
    for (auto* o : each_) o->on_epoch(m);
  }
  bool should_stop() override { return stop_(); }

 private:
  std::vector<TrainObserver*> each_;
  std::function<bool()> stop_;
};

}  // namespace lamina::detail
