#include "search/space_tree.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <limits>
#include <map>
#include <utility>

#include "search/scheduler.hpp"

namespace lamina::detail {
namespace {

std::string flow(const YAML::Node& n) {
  YAML::Emitter e;
  e << YAML::Flow << n;
  return e.c_str();
}

// A group: the dimensions that share a parent and an alternative, in space order.
using GroupKey = std::pair<int, int>;

std::vector<std::size_t> group_of(const SpaceTree& tree, GroupKey key) {
  std::vector<std::size_t> dims;
  for (std::size_t d = 0; d < tree.conditions.size(); ++d) {
    if (tree.conditions[d].parent == key.first && tree.conditions[d].choice == key.second) dims.push_back(d);
  }
  return dims;
}

// A dimension's value as the YAML its place in the model gets: a choice with children is its
// alternative (as written) with each active child's value put where its distribution was.
YAML::Node materialize(const SearchSpace& space, const SpaceTree& tree, const std::vector<Value>& values,
                       std::size_t d) {
  YAML::Node node = YAML::Load(values[d].text);
  if (space.dims[d].type != Dimension::Type::Choice) return node;
  const int chosen = static_cast<int>(values[d].number);
  for (std::size_t c = d + 1; c < tree.conditions.size(); ++c) {
    const Condition& k = tree.conditions[c];
    if (k.parent != static_cast<int>(d) || k.choice != chosen) continue;
    const bool left_out = is_inactive(values[c]);  // only when a leaf is probed alone (spec.cpp)
    YAML::Node child = left_out ? YAML::Node() : materialize(space, tree, values, c);
    const Dimension& leaf = space.dims[c];
    const YAML::Node stand_in =
        YAML::Load(leaf.type == Dimension::Type::Choice ? leaf.choices[0] : fmt::format("{}", leaf.lo));
    if (k.key.empty()) {  // the alternative is itself a distribution
      node = left_out ? stand_in : child;
      continue;
    }
    // Walks with reset(), which rebinds; Node's operator= would overwrite the node walked from.
    YAML::Node at;
    at.reset(node);
    for (std::size_t i = 0; i + 1 < k.key.size(); ++i) {
      YAML::Node next = at.IsSequence() ? at[std::stoul(k.key[i])] : at[k.key[i]];
      at.reset(next);
    }
    if (at.IsSequence()) {
      // A distribution as a list's element cannot be taken out: its first candidate stands in.
      at[std::stoul(k.key.back())] = left_out ? stand_in : child;
    } else if (left_out) {
      at.remove(k.key.back());
    } else {
      at[k.key.back()] = child;
    }
  }
  return node;
}

}  // namespace

bool SpaceTree::flat() const {
  for (const auto& c : conditions) {
    if (c.parent >= 0) return false;
  }
  return true;
}

Value inactive_value() { return {"", std::numeric_limits<double>::quiet_NaN()}; }
bool is_inactive(const Value& v) { return v.text.empty() && std::isnan(v.number); }

std::string shown_value(const SpaceTree& tree, const std::vector<Value>& values, std::size_t d) {
  if (is_inactive(values[d])) return "";
  const auto& branches = d < tree.conditions.size() ? tree.conditions[d].branches : std::vector<std::string>{};
  const auto i = static_cast<std::size_t>(values[d].number);
  return i < branches.size() ? branches[i] : values[d].text;
}

std::vector<bool> active_dimensions(const SpaceTree& tree, const std::vector<Value>& values) {
  std::vector<bool> active(tree.conditions.size(), false);
  for (std::size_t d = 0; d < tree.conditions.size() && d < values.size(); ++d) {
    const Condition& c = tree.conditions[d];
    active[d] = c.parent < 0 || (active[static_cast<std::size_t>(c.parent)] &&
                                 values[static_cast<std::size_t>(c.parent)].number == c.choice);
  }
  return active;
}

std::vector<std::string> space_overrides(const SearchSpace& space, const SpaceTree& tree,
                                         const std::vector<Value>& values) {
  std::vector<std::string> out;
  for (std::size_t d = 0; d < space.dims.size(); ++d) {
    if (tree.conditions[d].parent >= 0 || is_inactive(values[d])) continue;
    const bool has_children = [&] {
      for (const auto& c : tree.conditions) {
        if (c.parent == static_cast<int>(d)) return true;
      }
      return false;
    }();
    // A flat dimension's text goes in as it is, byte for byte as before conditions existed.
    out.push_back(space.dims[d].path + "=" +
                  (has_children ? flow(materialize(space, tree, values, d)) : values[d].text));
  }
  return out;
}

std::string outside_tree(const std::vector<Value>& values, const SearchSpace& space, const SpaceTree& tree) {
  if (values.size() != space.dims.size()) {
    return fmt::format("{} values for a space of {} dimensions", values.size(), space.dims.size());
  }
  const std::vector<bool> active = active_dimensions(tree, values);
  SearchSpace one;
  for (std::size_t d = 0; d < space.dims.size(); ++d) {
    if (!active[d]) {
      if (!is_inactive(values[d])) return fmt::format("{}: a value ({}) where it is inactive", space.dims[d].path, values[d].text);
      continue;
    }
    if (is_inactive(values[d])) return fmt::format("{}: no value, though it is active", space.dims[d].path);
    one.dims = {space.dims[d]};
    if (std::string why = outside({values[d]}, one); !why.empty()) return why;
  }
  return "";
}

std::vector<Value> propose_tree(Sampler& sampler, const std::string& sampler_name, const SearchSpace& space,
                                const SpaceTree& tree, std::span<const Trial> history, std::int64_t id, Rng& rng) {
  std::vector<Value> values(space.dims.size(), inactive_value());
  std::vector<GroupKey> queue{{-1, -1}};
  for (std::size_t q = 0; q < queue.size(); ++q) {
    const std::vector<std::size_t> dims = group_of(tree, queue[q]);
    if (dims.empty()) continue;  // an alternative without distributions of its own
    SearchSpace sub;
    for (std::size_t d : dims) sub.dims.push_back(space.dims[d]);
    // The trials in which this group was active, reduced to its dimensions.
    std::vector<Trial> seen;
    for (const Trial& t : history) {
      if (t.values.size() != space.dims.size()) continue;
      if (!active_dimensions(tree, t.values)[dims.front()]) continue;
      Trial p = t;
      p.values.clear();
      for (std::size_t d : dims) p.values.push_back(t.values[d]);
      if (inside(p, sub)) seen.push_back(std::move(p));
    }
    std::vector<Value> proposed;
    try {
      proposed = sampler.propose(sub, seen, id, rng);
    } catch (const std::exception& e) {
      throw PluginFailure(fmt::format("sampler {}: trial {}: {}", sampler_name, id, e.what()));
    } catch (...) {
      throw PluginFailure(
          fmt::format("sampler {}: trial {}: it threw something that is not a std::exception", sampler_name, id));
    }
    if (const std::string why = outside(proposed, sub); !why.empty()) {
      throw PluginFailure(fmt::format("sampler {}: trial {}: {}", sampler_name, id, why));
    }
    for (std::size_t i = 0; i < dims.size(); ++i) {
      values[dims[i]] = proposed[i];
      if (space.dims[dims[i]].type == Dimension::Type::Choice) {
        queue.emplace_back(static_cast<int>(dims[i]), static_cast<int>(proposed[i].number));
      }
    }
  }
  return values;
}

}  // namespace lamina::detail
