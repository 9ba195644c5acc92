// SearchStrategy: how a hyperparameter search chooses, stops and narrows. The core's search
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

namespace lamina {

struct Dimension {
  enum class Type { Uniform, LogUniform, IntUniform, Choice };
  std::string path;  // a dotted path into the model, "optimizer.lr"
  Type type = Type::Uniform;
  double lo = 0, hi = 0;             // numeric types: the range (LogUniform: lo > 0)
  std::vector<std::string> choices;  // Choice: the values, as YAML text
};

struct SearchSpace {
  std::vector<Dimension> dims;
};

// One value of one dimension: the YAML text written into the model, and its number (for
// numeric dimensions; a Choice's index otherwise) for narrowing and plots.
struct Value {
  std::string text;
  double number = 0;
};

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
