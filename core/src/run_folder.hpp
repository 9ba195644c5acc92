// The run folder of `lamina train`: model.yaml (resolved), metrics.csv and metrics.json
// (rewritten atomically after each epoch), run.json (timings, threads, plugins).
// metrics.* hold only what the seed determines, so two runs with the same seed and thread
// count produce byte-identical metrics; wall-clock figures go to run.json.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "lamina/trainer.hpp"

namespace lamina::detail {

// runs/<name>-<YYYYmmdd-HHMMSS>[-k] in the current folder, or `out`. Creates the folder.
std::filesystem::path create_run_dir(const std::string& model_name, const std::filesystem::path* out);

void write_metrics(const std::filesystem::path& dir, const std::vector<EpochMetrics>& history);

}  // namespace lamina::detail
