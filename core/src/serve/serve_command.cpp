// `lamina serve`, and the dashboard that `train --serve` and `search --serve` run beside their
// work.
#include <fmt/format.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>

#include <ostream>
#include <thread>

#include "runtime/commands.hpp"
#include "serve/dashboard.hpp"
#include "session.hpp"

namespace lamina {
namespace {

void announce(const serve::Dashboard& d, const ServeRequest& req, std::ostream& out) {
  std::string roots;
  for (const auto& r : req.roots) roots += (roots.empty() ? "" : ", ") + r.string();
  if (!serve::is_loopback(req.host)) {
    out << fmt::format("note: --host {}: every machine that can reach this one on port {} can read these runs "
                       "(the default, 127.0.0.1, serves this machine alone)",
                       req.host, d.port())
        << std::endl;
  }
  out << fmt::format("dashboard of {} at {}", roots, d.url()) << std::endl;
}

}  // namespace

void run_serve(const ServeRequest& req, std::ostream& out) {
  // Many workers (one per connection, dashboard.cpp) would each get a malloc arena of their own
  // and keep its memory; four arenas serve a read-only dashboard as well as eight.
  ::mallopt(M_ARENA_MAX, 4);
  detail::Session session(req.plugins);
  session.load();
  // SIGINT and SIGTERM are taken by sigwait below: blocked here, before the server's threads
  // start (they inherit the mask), so that none of them is interrupted instead.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  serve::Dashboard dashboard(req.roots, req.host, req.port, session.registry);
  announce(dashboard, req, out);
  out << "Ctrl-C stops it" << std::endl;
  std::thread server([&] { dashboard.run(); });
  int signal = 0;
  sigwait(&stop_signals, &signal);
  dashboard.stop();
  server.join();
  pthread_sigmask(SIG_UNBLOCK, &stop_signals, nullptr);
  out << "stopped" << std::endl;
}

struct DashboardThread::Impl {
  detail::Session session;
  serve::Dashboard dashboard;
  std::thread thread;
  Impl(const ServeRequest& req)
      : session(req.plugins), dashboard((session.load(), req.roots), req.host, req.port, session.registry) {}
};

DashboardThread::DashboardThread(const ServeRequest& req, std::ostream& out) : impl_(std::make_unique<Impl>(req)) {
  announce(impl_->dashboard, req, out);
  impl_->thread = std::thread([this] { impl_->dashboard.run(); });
}

DashboardThread::~DashboardThread() {
  impl_->dashboard.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace lamina
