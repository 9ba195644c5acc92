// SearchStrategy (deprecated): the ABI-4 interface that did a search's sampling, pruning and
// narrowing in one class. The driver no longer calls it: a search names a Sampler
// (lamina/sampler.hpp) and a Pruner (lamina/pruner.hpp), and narrows in the core. It stays,
// with its records, so plugins built for ABI 4 that register one still load; a search file
// naming one is refused with the new keys (README.md, "Hyperparameter search"). Removed at the next ABI bump.
//
// What it was: how a hyperparameter search chooses, stops and narrows. The core's search
// driver owns the trials, the journal and the workers; a strategy only decides:
//   propose()     the values of trial `id` — a pure function of (space, id, rng), so a resumed
//                 or parallel search proposes exactly what an uninterrupted serial one did;
//   should_stop() after each epoch of a running trial, whether to give up on it (pruning);
//   narrow()      between rounds, the space the next round samples from.
//
//   class Random : public lamina::SearchStrategy { ... };
//   r.add<lamina::SearchStrategy>("random_search", "...", keys, factory);
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "lamina/export.hpp"
#include "lamina/kind.hpp"
#include "lamina/rng.hpp"
#include "lamina/search_space.hpp"

namespace lamina {

// What the driver knows of a trial when a strategy is asked.
struct TrialReport {
  std::int64_t id = 0;
  std::int64_t round = 0;
  std::vector<Value> values;   // one per dimension
  std::vector<double> scores;  // per finished epoch, higher is better
  bool finished = false;
  std::string status;  // ok | pruned | diverged | failed, once finished
};

// Successive halving at rungs of epochs: at epochs min_epochs * reduction^k a trial continues
// only if its score is in the top 1/reduction of the trials that reached that rung before it.
struct PruningRule {
  bool enabled = false;
  std::int64_t min_epochs = 1;
  std::int64_t reduction = 3;
};

class LAMINA_API SearchStrategy {
 public:
  static constexpr Kind kind = Kind::Search;
  virtual ~SearchStrategy() = default;

  virtual std::vector<Value> propose(const SearchSpace& space, std::int64_t id, Rng& rng) = 0;
  // `earlier` holds the trials with a smaller id, each with the scores it reached (a trial
  // reaching the same epoch later never changes an earlier decision: the search is the same
  // for any number of workers).
  virtual bool should_stop(const TrialReport& trial, std::span<const TrialReport> earlier, const PruningRule& rule) = 0;
  // `finished` holds the round's trials; keep is the top fraction whose span becomes the range.
  virtual SearchSpace narrow(const SearchSpace& space, std::span<const TrialReport> finished, double keep) = 0;
};

}  // namespace lamina
