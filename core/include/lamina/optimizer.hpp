// Optimizer: an update rule plus per-parameter state (velocities, moments), created on the
// first step and keyed by the parameter's stable name ("layers.0.W"), never its address, so
// the state can be saved and resumed (ensmallen's update policies).
//
// step(params) updates each value in place from its grad; the list holds the same parameters
// in the same order at every step. Per-parameter state lives in lamina::Slots (slots.hpp).
//
// Learning-rate schedules (optimizer: {..., schedule: {type: cosine}}, lamina/schedule.hpp) work
// with every optimizer through lr_scale(): the trainer sets it before each step, and step()
// multiplies its learning rate by it — `const float lr = lr_ * lr_scale();` — and by nothing
// else of the schedule's. Without a schedule it is exactly 1.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "lamina/error.hpp"
#include "lamina/export.hpp"
#include "lamina/kind.hpp"
#include "lamina/param.hpp"

namespace lamina {

class LAMINA_API Optimizer {
 public:
  static constexpr Kind kind = Kind::Optimizer;
  virtual ~Optimizer() = default;

  virtual void step(std::span<Param* const> params) = 0;

  // Checkpoints. save_state() appends the state as named tensors — per-parameter slots as
  // "<param>.<slot>" ("layers.0.W.v"), scalars such as Adam's step count as 1-element tensors;
  // load_state() restores what save_state() wrote and throws InputError on a name it does not
  // know. Stateless optimizers keep these defaults.
  virtual void save_state(std::vector<Buffer>& out) const { (void)out; }
  virtual void load_state(std::span<const Buffer> state) {
    if (!state.empty())
      throw InputError("this optimizer keeps no state, but the checkpoint holds '" + state[0].name + "'");
  }

  // The schedule's factor for the coming step (1 without a schedule).
  float lr_scale() const { return lr_scale_; }
  void set_lr_scale(float scale) { lr_scale_ = scale; }

 private:
  float lr_scale_ = 1.0f;
};

}  // namespace lamina
