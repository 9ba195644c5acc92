// The live marker: `.live` in a run or search folder while `lamina train` or `lamina search`
// works on it, so that `lamina serve` can tell a run in progress from one that was killed.
// It holds the process id, its start time (as /proc/PID/stat counts it: a reused pid has
// another) and the host name. Removed when the work ends, however it ends; a SIGKILL leaves it,
// and is_live() then finds the process gone.
#pragma once

#include <filesystem>

namespace lamina::detail {

class LiveMarker {
 public:
  LiveMarker() = default;
  explicit LiveMarker(const std::filesystem::path& folder);  // writes folder/.live (best effort)
  LiveMarker(LiveMarker&& other) noexcept : file_(std::move(other.file_)) { other.file_.clear(); }
  LiveMarker& operator=(LiveMarker&&) = delete;
  LiveMarker(const LiveMarker&) = delete;
  ~LiveMarker();

 private:
  std::filesystem::path file_;
};

// Whether `folder/.live` names a process of this host that is still running.
bool is_live(const std::filesystem::path& folder);

}  // namespace lamina::detail
