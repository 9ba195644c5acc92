// Sampler: proposes the values of a search trial. The core's search driver owns the trials,
// the workers, the journal and range narrowing; a sampler only proposes.
//
//   class Random : public lamina::Sampler { ... };
//   r.add<lamina::Sampler>("random", "...", keys, factory);
//
// Determinism: propose() must be a function of its arguments alone (no clock, no state kept
// between calls), so a resumed search, or one on any number of workers or MPI ranks, proposes
// what an uninterrupted serial one did. The driver makes the arguments fixed: `history` holds
// exactly the finished trials with id < id - lag (the search file's `lag`), in id order, which
// the driver waits for; `rng` is the trial's own stream.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "lamina/export.hpp"
#include "lamina/kind.hpp"
#include "lamina/rng.hpp"
#include "lamina/search_space.hpp"
#include "lamina/trial.hpp"

namespace lamina {

class LAMINA_API Sampler {
 public:
  static constexpr Kind kind = Kind::Sampler;
  virtual ~Sampler();

  // One value per dimension of `space`, inside it. `history` holds finished trials (any
  // status) whose values lie inside `space` (after narrowing, trials of earlier rounds outside
  // the new ranges are left out).
  virtual std::vector<Value> propose(const SearchSpace& space, std::span<const Trial> history, std::int64_t id,
                                     Rng& rng) = 0;
  // False for a sampler that never reads `history`: the driver then never waits for one.
  virtual bool uses_history() const { return true; }
};

}  // namespace lamina
