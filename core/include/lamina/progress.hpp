// Where training stands, as schedules (lamina/schedule.hpp) and callbacks (lamina/callback.hpp)
// see it: a step about to be taken, and the metrics an epoch ended with.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace lamina {

struct TrainStep {
  std::int64_t step = 0;             // optimizer steps taken before this one, over the whole run
  std::int64_t epoch = 1;            // the epoch in progress, from 1
  std::int64_t steps_per_epoch = 1;  // batches per epoch
  std::int64_t epochs = 1;           // train.epochs
};

// One measure of an epoch on each split: the loss, or one of the model's metrics
// (lamina/metric.hpp). NaN where a split was not measured (no validation split; the test set
// during a search).
struct MetricValue {
  const char* name = "";  // "loss", "accuracy", "r2", or the `name:` the model file gave
  bool higher_is_better = false;
  double train = NAN, val = NAN, test = NAN;
};

// A value a callback or schedule watches, by its column's name ("val_loss", "train_r2").
struct Watched {
  double value = NAN;
  bool higher_is_better = false;
};

// The epoch's measures: the loss first, then the model's metrics in the order the file lists
// them. Train as train.train_metrics says.
struct EpochEnd {
  std::int64_t epoch = 0;
  std::span<const MetricValue> metrics = {};

  // `column` is a split ("train_", "val_", "test_") and a measure's name, as metrics.csv names
  // its columns and Key::metric keys hold them; nullopt when the model reports no such measure.
  std::optional<Watched> find(std::string_view column) const {
    constexpr std::string_view splits[] = {"train_", "val_", "test_"};
    for (int s = 0; s < 3; ++s) {
      if (!column.starts_with(splits[s])) continue;
      const std::string_view name = column.substr(splits[s].size());
      for (const MetricValue& m : metrics) {
        if (name == m.name) return Watched{s == 0 ? m.train : s == 1 ? m.val : m.test, m.higher_is_better};
      }
    }
    return std::nullopt;
  }
};

}  // namespace lamina
