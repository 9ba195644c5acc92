// The run folder of `lamina train`, and its one owner: model.yaml (resolved), metrics.csv and
// metrics.json (rewritten atomically after each epoch), iterations.csv, run.json (timings,
// threads, plugins); the checkpoint set is checkpoint.hpp's. Readers (eval, predict, the
// embedding API) open a trained run through open_run().
// metrics.* hold only what the seed determines, so two runs with the same seed and thread
// count produce byte-identical metrics; wall-clock figures go to run.json.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <iosfwd>
#include <nlohmann/json.hpp>
#include <span>

#include "runtime/model.hpp"
#include "runtime/plugin_loader.hpp"
#include "runtime/trainer.hpp"

namespace lamina::detail {

struct RunDir {
  std::filesystem::path path;
  std::filesystem::path created;  // the topmost folder this call created ("" if it existed)
};

// runs/<name>-<YYYYmmdd-HHMMSS>[-k] in the current folder, or `out`. Creates the folder.
RunDir create_run_dir(const std::string& model_name, const std::filesystem::path* out);

// `metrics`: the model's metric names, the columns after each split's loss (also when no epoch
// has ended: a run that diverged in its first epoch).
void write_metrics(const std::filesystem::path& dir, const std::vector<EpochMetrics>& history,
                   const std::vector<std::string>& metrics);
// What a resumed run keeps: the metrics of its first `epochs` epochs, the per-step losses of them.
std::vector<EpochMetrics> read_history(const std::filesystem::path& dir, std::int64_t epochs);
std::string read_iterations(const std::filesystem::path& dir, std::int64_t epochs);
// metrics.json whole (plot); InputError naming the file if it is missing or not one.
std::vector<EpochMetrics> read_metrics(const std::filesystem::path& dir);

// metrics.csv or iterations.csv read back (plot, the dashboard, while the run may still be
// writing): the header's names, then only complete lines with as many cells as the header;
// `skipped` counts the others (a line still being written has no newline yet).
struct RunTable {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  std::size_t skipped = 0;
};
RunTable read_run_table(const std::string& text);

// run.json: how the run went (status, timings, threads, plugins).
struct RunInfo {
  std::filesystem::path model_file;
  std::vector<std::string> overrides;
  int ranks = 1;
  std::vector<std::string> class_names;  // the data source's, for predict's class_name column
};
void write_run_info(const std::filesystem::path& dir, const RunInfo& info, const Model& model,
                    const PluginLoader& loader, const std::vector<EpochMetrics>& history, double total_seconds,
                    const std::string& status, const nlohmann::ordered_json& failure = {});

// A trained run opened for use: its checkpoint recovered, its plugins checked against the
// manifest (warnings to `err`), its model built from model.yaml (+ overrides), not yet sized.
struct TrainedRun {
  std::filesystem::path dir;
  Model model;
};
TrainedRun open_run(const std::filesystem::path& dir, const Registry& registry,
                    std::span<const std::string> overrides, std::ostream& err);
// Sizes the model for samples of `sample_shape` and loads its weights; a mismatch names `input`.
// With `best`, the weights of model-best.safetensors (keep_best).
// The per-sample input shape a weights file (model.safetensors) was trained for, from its
// metadata; `hint` ends the message of a file without one (runs before ABI 3).
Shape trained_input_shape(const std::filesystem::path& weights, std::string_view hint);
// Gives the run's data source what it learned from the training data (the weights' "data_state",
// lamina/source_state.hpp), when the source keeps such a state and the file holds one.
void restore_source_state(Model& model, const std::filesystem::path& weights);
// What the model was trained to give (the weights' "targets"; a class when absent).
std::pair<TargetKind, std::int64_t> trained_targets(const std::filesystem::path& weights);
void size_and_load(TrainedRun& run, const Shape& sample_shape, const std::string& input, bool best = false);

}  // namespace lamina::detail
