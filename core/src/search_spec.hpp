// Core-internal: a search file, parsed and validated.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "runtime/model.hpp"
#include "runtime/registry.hpp"
#include "lamina/search_strategy.hpp"

namespace lamina::detail {

struct SearchSpec {
  std::filesystem::path file;
  std::string name;
  ModelFile base;
  SearchSpace space;
  std::vector<std::string> dim_where;  // file:line of each dimension, for messages
  std::int64_t trials = 20;            // per round
  std::int64_t epochs = 5;
  std::uint64_t seed = 1;
  std::int64_t workers = 1;
  std::string metric = "val_accuracy";
  std::int64_t rounds = 1;
  double keep = 0.25;
  PruningRule pruning;
  std::unique_ptr<SearchStrategy> strategy;
  std::string strategy_yaml;
  std::string fingerprint;  // what a journal must match to be resumed
};

SearchSpec load_search_spec(const std::filesystem::path& file, const Registry& registry);

}  // namespace lamina::detail
