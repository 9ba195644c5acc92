// Core-internal: a search file, parsed and validated.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "lamina/pruner.hpp"
#include "lamina/sampler.hpp"
#include "runtime/model.hpp"
#include "runtime/registry.hpp"
#include "search/space_tree.hpp"

namespace lamina::detail {

// What ranks the trials. Samplers, pruners and the journal see scores higher-is-better; a
// minimized metric is negated on the way in and back on the way out.
struct Metric {
  enum class Direction { Maximize, Minimize };
  std::string name = "val_accuracy";  // val_loss, or val_ and one of the model's metrics
  Direction direction = Direction::Maximize;
  std::string where;  // the search file's `metric:`, for messages
  // Takes the direction from the model's metric plugin (lamina/metric.hpp); refuses a metric
  // the model does not report. `model` has been through build_network.
  void resolve(const Model& model);
  double score(double measured) const { return direction == Direction::Minimize ? -measured : measured; }
  double shown(double score) const { return direction == Direction::Minimize ? -score : score; }
};

// One of `objectives:`. The first is always a metric: it is the per-epoch score the pruner
// judges. Measures are taken once per trial: `parameters` (the model's parameter count, frozen
// ones included) and `seconds_per_epoch` (the mean wall time of an epoch's training batches).
struct Objective {
  enum class Source { Metric, Parameters, SecondsPerEpoch };
  Source source = Source::Metric;
  Metric metric;  // name: the metric's ("val_accuracy"), or "parameters", "seconds_per_epoch"
  bool direction_given = false;  // `direction:` written: resolve() checks it against the metric plugin's
};

struct SearchSpec {
  std::filesystem::path file;
  std::string name;
  ModelFile base;
  SearchSpace space;
  SpaceTree tree;  // where each of space's dimensions lives (a conditional space's branches)
  // `enqueue:`: the first trials' values, as given (points of the space), before any proposal.
  std::vector<std::vector<Value>> enqueued;
  // `warm_start:`: another search's finished trials whose values are points of this space, with
  // ids -N..-1: every proposal's history starts with them; they are not this search's trials.
  std::vector<Trial> warm;
  std::vector<std::vector<double>> warm_objectives;  // with `objectives:`: each warm trial's, as shown
  std::filesystem::path warm_from;
  std::int64_t warm_read = 0;  // trials the other journal holds (warm.size() of them were taken)
  std::int64_t trials = 20;            // per round
  std::int64_t epochs = 5;
  std::uint64_t seed = 1;
  std::int64_t workers = 1;
  Metric metric;
  // `objectives:` (two or more; objectives[0].metric is `metric`): the search keeps their Pareto
  // front. Empty: ranked by `metric` alone.
  std::vector<Objective> objectives;
  std::vector<std::string> objective_names() const;
  std::int64_t rounds = 1;
  double keep = 0.25;
  std::int64_t lag = 3;  // trial k's sampler sees the trials with id < k - lag
  std::int64_t repeats = 1;  // seeds per trial, whose mean is its score
  std::unique_ptr<Sampler> sampler;
  std::unique_ptr<Pruner> pruner;         // null: no pruning
  std::string sampler_yaml, pruner_yaml;  // as written (flow YAML), for the fingerprint
  std::string sampler_type, pruner_type;  // the type names ("tpe", "median"; "" without a pruner)
  std::string fingerprint;                // what a journal must match to be resumed
};

// The journal's fingerprint read back (the dashboard shows a search's space from it): written by
// load_search_spec and parsed here alone, so the two change together. Its first line holds
// "key=value" words; one line per dimension follows ("path type-code lo hi choice, choice"),
// then the base model's text. Anything unreadable ends the dimensions.
struct FingerprintSummary {
  std::int64_t trials = 0, rounds = 1, epochs = 0;
  std::string metric;
  std::vector<Dimension> dims;
};
FingerprintSummary parse_fingerprint(const std::string& fingerprint);

// A choice that branches (other dimensions live in its alternatives, "PATH@..."): its
// alternatives' names as the search names them (their types, or their indices); empty for any
// other dimension. For readers of a fingerprint, who have the dimensions but not the tree.
std::vector<std::string> branch_names(const std::vector<Dimension>& dims, std::size_t d);

SearchSpec load_search_spec(const std::filesystem::path& file, const Registry& registry);

// Metric::resolve for `metric` and every metric objective (a `direction:` that contradicts the
// metric plugin's is refused). `model` has been through build_network.
void resolve_objectives(SearchSpec& spec, const Model& model);

// The objectives as scores (higher is better), from their shown values.
std::vector<double> objective_scores(const SearchSpec& spec, const std::vector<double>& shown);

}  // namespace lamina::detail
