// `train --serve` and `search --serve`: the dashboard beside the work.
#pragma once

#include <filesystem>
#include <iosfwd>
#include <memory>
#include <optional>

#include "runtime/commands.hpp"

namespace lamina::detail {

// The dashboard of `root` on `port` while the caller works, on rank 0 alone (null without a
// port or on another rank). Started before anything is read, so that it also shows the work's
// failure; creates `root` (runs/ before the first run: the dashboard watches it appear).
std::unique_ptr<DashboardThread> dashboard_beside(std::optional<int> port, const Cluster* cluster,
                                                  const PluginOptions& plugins, const std::filesystem::path& root,
                                                  std::ostream& out);

// The folder holding `dir` (as written: "runs/a" -> "runs", "a" -> "."): the dashboard's root
// for a run or search folder given by --out or --resume.
std::filesystem::path parent_folder(const std::filesystem::path& dir);

// Throws RequestError for a port outside 0..65535.
void check_port(int port);

}  // namespace lamina::detail
