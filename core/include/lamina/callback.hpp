// Callback: code that rides along with training, listed in the model file under
// `train: {callbacks: [{type: early_stopping, patience: 3}, {type: clip_gradients}]}`
// (Keras's callbacks, Caffe's clip_gradients). Three hooks, each optional:
//   before_update  after backward and the regularizers, before the optimizer step: the batch's
//                  gradients, which a callback may change (gradient clipping);
//   end_batch      after the step, with the batch's loss;
//   end_epoch      after the epoch's evaluation, with its metrics: the callback may end the run
//                  (early stopping; the reason goes to run.json) or mark this epoch's model the
//                  best so far (keep_best: the host keeps its weights as model-best.safetensors,
//                  which `lamina eval --best` and `predict --best` read).
// Under mpirun every rank calls them with the same values (the gradients are already summed).
// State kept between calls goes through save_state/load_state, checkpointed with the run.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "lamina/error.hpp"
#include "lamina/export.hpp"
#include "lamina/kind.hpp"
#include "lamina/param.hpp"
#include "lamina/progress.hpp"

namespace lamina {

struct CallbackAction {
  bool stop = false;   // end the run after this epoch
  bool best = false;   // this epoch's model is the best so far
  std::string reason;  // why it stopped, for run.json and the console
};

class LAMINA_API Callback {
 public:
  static constexpr Kind kind = Kind::Callback;
  virtual ~Callback() = default;

  virtual void before_update(std::span<Param* const> params, const TrainStep& at) {
    (void)params;
    (void)at;
  }
  virtual void end_batch(const TrainStep& at, float loss) {
    (void)at;
    (void)loss;
  }
  virtual CallbackAction end_epoch(const EpochEnd& metrics) {
    (void)metrics;
    return {};
  }

  virtual void save_state(std::vector<Buffer>& out) const { (void)out; }
  virtual void load_state(std::span<const Buffer> state) {
    if (!state.empty())
      throw InputError("this callback keeps no state, but the checkpoint holds '" + state[0].name + "'");
  }
};

}  // namespace lamina
