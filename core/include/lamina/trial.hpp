// A search trial as samplers and pruners see it: its values, its score after each finished
// epoch and its status. Scores are always "higher is better": the core negates a metric that
// is minimized (val_loss), so a plugin never needs to know the direction.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "lamina/export.hpp"
#include "lamina/search_space.hpp"

namespace lamina {

// Values cross the plugin boundary: new statuses are appended.
enum class TrialStatus : std::uint8_t {
  Running,   // started (or about to), not finished
  Ok,        // trained every epoch
  Pruned,    // stopped early by the pruner
  Diverged,  // the loss became NaN or infinite
  Failed,    // the trial's model or training raised an error
};

// "running", "ok", "pruned", "diverged", "failed": the journal's and results.csv's words.
LAMINA_API std::string_view status_name(TrialStatus status);

struct Trial {
  std::int64_t id = 0;
  std::int64_t round = 0;      // from 0
  std::vector<Value> values;   // one per dimension of the space it was proposed in
  std::vector<double> scores;  // one per finished epoch, higher is better
  TrialStatus status = TrialStatus::Running;
};

}  // namespace lamina
