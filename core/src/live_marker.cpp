#include "live_marker.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "atomic_file.hpp"

namespace fs = std::filesystem;

namespace lamina::detail {
namespace {

constexpr const char* kName = ".live";

// Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot ("" if gone).
std::string start_time(long pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string stat;
  if (!std::getline(in, stat)) return "";
  const auto close = stat.rfind(')');  // the command name may hold spaces and parentheses
  if (close == std::string::npos) return "";
  std::istringstream fields(stat.substr(close + 2));
  std::string f;
  for (int i = 3; i <= 22 && fields >> f; ++i) {
  }
  return f;
}

std::string host_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) return "";
  return host;
}

}  // namespace

LiveMarker::LiveMarker(const fs::path& folder) {
  try {
    const long pid = ::getpid();
    write_file_atomic(folder / kName, fmt::format("{} {} {}\n", pid, start_time(pid), host_name()));
    file_ = folder / kName;
  } catch (const std::exception&) {
    // Only the dashboard's live badge depends on it: a read-only folder does not stop the work.
  }
}

LiveMarker::~LiveMarker() {
  std::error_code ec;
  if (!file_.empty()) fs::remove(file_, ec);
}

bool is_live(const fs::path& folder) {
  std::error_code ec;
  if (!fs::is_regular_file(folder / kName, ec)) return false;  // a FIFO there must not block the scan
  std::ifstream in(folder / kName);
  long pid = 0;
  std::string started, host;
  if (!(in >> pid >> started >> host) || pid <= 0) return false;
  return host == host_name() && start_time(pid) == started;
}

}  // namespace lamina::detail
