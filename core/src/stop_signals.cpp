#include "stop_signals.hpp"

#include <atomic>

namespace lamina::detail {
namespace {

std::atomic<bool> g_raised{false};
std::atomic<int> g_depth{0};  // a nested StopSignals (a train inside a search) keeps the flag
void on_signal(int) { g_raised.store(true); }

}  // namespace

StopSignals::StopSignals(std::initializer_list<int> signals, bool install) {
  if (!install) return;
  if (g_depth.fetch_add(1) == 0) g_raised.store(false);
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (int s : signals) {
    Saved saved{s, {}};
    ::sigaction(s, &sa, &saved.old);
    saved_.push_back(saved);
  }
}

StopSignals::~StopSignals() {
  if (saved_.empty()) return;
  for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) ::sigaction(it->signal, &it->old, nullptr);
  g_depth.fetch_sub(1);
}

bool StopSignals::raised() { return g_raised.load(); }

}  // namespace lamina::detail
