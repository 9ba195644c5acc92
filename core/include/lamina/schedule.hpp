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
#include "lamina/progress.hpp"

namespace lamina {

class LAMINA_API Schedule {
 public:
  static constexpr Kind kind = Kind::Schedule;
  virtual ~Schedule() = default;

  // The factor (> 0, finite) the learning rate is multiplied by for step `at`.
  virtual double factor(const TrainStep& at) = 0;
  virtual void end_epoch(const EpochEnd& metrics) { (void)metrics; }

  virtual void save_state(std::vector<Buffer>& out) const { (void)out; }
  virtual void load_state(std::span<const Buffer> state) {
    if (!state.empty())
      throw InputError("this schedule keeps no state, but the checkpoint holds '" + state[0].name + "'");
  }
};

}  // namespace lamina
