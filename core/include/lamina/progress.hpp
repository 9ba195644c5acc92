// Where training stands, as schedules (lamina/schedule.hpp) and callbacks (lamina/callback.hpp)
// see it: a step about to be taken, and the metrics an epoch ended with.
#pragma once

#include <cstdint>

namespace lamina {

struct TrainStep {
  std::int64_t step = 0;             // optimizer steps taken before this one, over the whole run
  std::int64_t epoch = 1;            // the epoch in progress, from 1
  std::int64_t steps_per_epoch = 1;  // batches per epoch
  std::int64_t epochs = 1;           // train.epochs
};

// Losses and accuracies of an epoch (train as train.train_metrics says); validation ones are
// NaN without a validation split.
struct EpochEnd {
  std::int64_t epoch = 0;
  double train_loss = 0, train_accuracy = 0;
  double val_loss = 0, val_accuracy = 0;
  double test_loss = 0, test_accuracy = 0;
};

}  // namespace lamina
