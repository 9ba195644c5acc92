// What `lamina train` shows while it trains, as a TrainObserver: one line per epoch on `out`
// and, on a terminal, a live bar on stderr redrawn at most 10 times a second (throttled so that
// printing never costs measurable training time). The run folder is another observer
// (run_writer.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>

#include "runtime/trainer.hpp"

namespace lamina::detail {

class ConsoleProgress : public TrainObserver {
 public:
  ConsoleProgress(std::ostream& out, std::int64_t epochs, bool live) : out_(out), epochs_(epochs), live_(live) {}
  void on_batch(std::int64_t epoch, std::int64_t batch, std::int64_t batches, float loss) override;
  void on_epoch(const EpochMetrics& m) override;

 private:
  std::ostream& out_;
  std::int64_t epochs_;
  bool live_;
  std::chrono::steady_clock::time_point epoch_start_, last_draw_;
};

}  // namespace lamina::detail
