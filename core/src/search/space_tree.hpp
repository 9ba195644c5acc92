// Core-internal: a conditional search space. A `choice` alternative may hold distributions of
// its own, to any depth:
//
//   optimizer: {choice: [{type: adam, lr: {log_uniform: [1e-4, 1e-2]}},
//                        {type: momentum, lr: {log_uniform: [1e-3, 1e-1]}, momentum: {uniform: [0.8, 0.99]}}]}
//
// The space is kept flat (SearchSpace, one Dimension per leaf, parents before their children)
// and each dimension records where it lives: which choice dimension, which of its alternatives,
// and where inside that alternative. A child's path names the alternative by its `type` when
// the alternatives' types are distinct ("optimizer@momentum.momentum"), by its index otherwise
// ("layers.2@1.ratio").
//
// A dimension is active in a trial when its parent is active and chose its alternative; an
// inactive value is empty text and NaN. Samplers never see one: the host proposes group by
// group (the dimensions that share a parent and an alternative), each from the trials in which
// that group was active, so that a sampler that learns (TPE) models each branch from the trials
// that tried it (Optuna's TPE with group=True decomposes a space the same way). A flat space is
// one group: proposals, journals and results are those of a search without conditions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "lamina/rng.hpp"
#include "lamina/sampler.hpp"
#include "lamina/search_space.hpp"
#include "lamina/trial.hpp"

namespace lamina::detail {

struct Condition {
  int parent = -1;               // the choice dimension it lives in; -1: the top level
  int choice = -1;               // which of the parent's alternatives
  std::vector<std::string> key;  // where in that alternative ("lr"; "schedule", "gamma"); empty: all of it
  std::vector<std::string> branches;  // a choice with distributions inside: its alternatives' names
};

// One Condition per dimension of the space, in its order (parents first).
struct SpaceTree {
  std::vector<Condition> conditions;
  bool flat() const;
};

Value inactive_value();
bool is_inactive(const Value& v);

// Which dimensions `values` make active (a parent's choice read from its number).
std::vector<bool> active_dimensions(const SpaceTree& tree, const std::vector<Value>& values);

// The model's `--set` overrides of a point: each top-level dimension's path = its value, a choice
// with children written as its alternative with their values in place (flow YAML).
std::vector<std::string> space_overrides(const SearchSpace& space, const SpaceTree& tree,
                                         const std::vector<Value>& values);

// What a person reads for dimension `d` of a point (the console, results.csv): nothing where it
// is inactive, a branching choice's alternative by name ("momentum"), any other value's text.
std::string shown_value(const SpaceTree& tree, const std::vector<Value>& values, std::size_t d);

// Why `values` are not a point of the conditional space (as outside() for flat ones, and an
// active dimension without a value or an inactive one with one); empty if they are.
std::string outside_tree(const std::vector<Value>& values, const SearchSpace& space, const SpaceTree& tree);

// Proposes one trial's values group by group (above). `history`: finished trials, whose values
// are points of the whole space. Every sampler call is checked against its group's space; a
// sampler that answers outside it ends the search, named `sampler_name`.
std::vector<Value> propose_tree(Sampler& sampler, const std::string& sampler_name, const SearchSpace& space,
                                const SpaceTree& tree, std::span<const Trial> history, std::int64_t id, Rng& rng);

}  // namespace lamina::detail
