// Pruner: decides, after an epoch of a running trial, whether the trial goes on.
//
//   class Median : public lamina::Pruner { ... };
//   r.add<lamina::Pruner>("median", "...", keys, factory);
//
// Determinism: the driver asks about trial T at epoch e only once every earlier trial (smaller
// id, same round) has reached epoch e or finished, and passes those trials as `earlier`, each
// with the scores it had then or since. A pruner decides from its arguments alone, so the
// search is the same for any number of workers or ranks, and after a resume.
#pragma once

#include <cstdint>
#include <span>

#include "lamina/export.hpp"
#include "lamina/kind.hpp"
#include "lamina/trial.hpp"

namespace lamina {

class LAMINA_API Pruner {
 public:
  static constexpr Kind kind = Kind::Pruner;
  virtual ~Pruner();

  // Whether the pruner may stop a trial after `epoch` (from 1). At other epochs the driver
  // neither asks nor makes the trial wait for earlier ones: a pruner that decides at rungs
  // only, or never, costs no synchronization elsewhere.
  virtual bool decides_at(std::int64_t epoch) const = 0;
  // `trial.scores` ends with the epoch just finished; true stops the trial (it is journaled
  // as pruned, with the scores it reached).
  virtual bool should_prune(const Trial& trial, std::span<const Trial> earlier) = 0;
};

}  // namespace lamina
