// Schedule: how the optimizer's learning rate changes during training. The model file names it
// inside the optimizer's mapping, so swapping either keeps the other:
//
//   optimizer: {type: adam, lr: 1.0e-3, schedule: {type: cosine, warmup_epochs: 1}}
//
// Before every optimizer step the trainer asks factor() and hands it to the optimizer
// (Optimizer::lr_scale), which multiplies its own learning rate by it: any optimizer honours
// any schedule. After each epoch end_epoch() sees the epoch's validation metrics (for schedules
// that react to them, such as reduce_on_plateau). Whatever a schedule keeps between calls is
// saved with the checkpoint (save_state/load_state, as optimizers do), so --resume continues it
// exactly; a schedule that is a pure function of the step keeps the defaults.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "lamina/error.hpp"
#include "lamina/export.hpp"
#include "lamina/kind.hpp"
#include "lamina/param.hpp"

namespace lamina {

// Where training stands at the step about to be taken.
struct ScheduleStep {
  std::int64_t step = 0;             // optimizer steps taken before this one, over the whole run
  std::int64_t epoch = 1;            // the epoch in progress, from 1
  std::int64_t steps_per_epoch = 1;  // batches per epoch
  std::int64_t epochs = 1;           // train.epochs
};

// The metrics an epoch ended with; validation ones are NaN without a validation split.
struct EpochEnd {
  std::int64_t epoch = 0;
  double train_loss = 0;
  double val_loss = 0;
  double val_accuracy = 0;
};

class LAMINA_API Schedule {
 public:
  static constexpr Kind kind = Kind::Schedule;
  virtual ~Schedule() = default;

  // The factor (> 0, finite) the learning rate is multiplied by for step `at`.
  virtual double factor(const ScheduleStep& at) = 0;
  virtual void end_epoch(const EpochEnd& metrics) { (void)metrics; }

  virtual void save_state(std::vector<Buffer>& out) const { (void)out; }
  virtual void load_state(std::span<const Buffer> state) {
    if (!state.empty())
      throw InputError("this schedule keeps no state, but the checkpoint holds '" + state[0].name + "'");
  }
};

}  // namespace lamina
