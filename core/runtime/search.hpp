// Hyperparameter search: `lamina search SEARCH.yaml`. A search file names a base model (a path
// or inline), a space over dotted paths of the model tree, and a budget:
//
//   model: mlp-small.yaml
//   space:
//     optimizer.lr: {log_uniform: [1.0e-6, 1.0e-2]}
//     regularizer.lambda: {log_uniform: [1.0e-8, 1.0e-4]}
//   trials: 100          # per round
//   epochs: 50           # per trial
//   seed: 1
//   workers: 2
//   rounds: {count: 2, keep: 0.2}             # narrow to the top 20% between rounds
//   pruning: {type: asha, min_epochs: 5, reduction: 3}
//
// Every trial trains on the training split and is scored on the validation split (the test
// set is never used to choose). Finished trials go to an append-only journal; rerunning the
// same command resumes, proposing exactly what an uninterrupted run would have.
#pragma once

#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "runtime/cluster.hpp"
#include "runtime/plugin_loader.hpp"

namespace lamina {

struct SearchRequest {
  std::filesystem::path file;
  std::optional<std::filesystem::path> out;  // default runs/search-<file stem>
  std::optional<int> workers;                // overrides the file's `workers` (1..256)
  PluginOptions plugins;                     // --plugin-dir, --allow-writable-plugins
  bool progress = true;
  // The MPI job this process is a rank of (null: alone). Rank 0 runs the strategy, the journal
  // and the output; every other rank runs `workers` trials at a time that rank 0 hands out.
  Cluster* cluster = nullptr;
  // --serve PORT: the dashboard of the search folder's parent (runs/ by default) meanwhile,
  // served by rank 0.
  std::optional<int> serve;
};

struct SearchResult {
  std::filesystem::path dir;
  std::int64_t trials_run = 0;       // by this invocation (a resumed search runs fewer)
  std::int64_t trials_finished = 0;  // in the journal
  bool interrupted = false;
};

// Throws InputError (before any training) on a bad search file or base model.
SearchResult run_search(const SearchRequest& request, std::ostream& out);

}  // namespace lamina
