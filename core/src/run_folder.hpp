// The run folder of `lamina train`: model.yaml (resolved), metrics.csv and metrics.json
// (rewritten atomically after each epoch), run.json (timings, threads, plugins).
// metrics.* hold only what the seed determines, so two runs with the same seed and thread
// count produce byte-identical metrics; wall-clock figures go to run.json.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "runtime/trainer.hpp"

namespace lamina::detail {

struct RunDir {
  std::filesystem::path path;
  std::filesystem::path created;  // the topmost folder this call created ("" if it existed)
};

// runs/<name>-<YYYYmmdd-HHMMSS>[-k] in the current folder, or `out`. Creates the folder.
RunDir create_run_dir(const std::string& model_name, const std::filesystem::path* out);

void write_metrics(const std::filesystem::path& dir, const std::vector<EpochMetrics>& history);

}  // namespace lamina::detail
