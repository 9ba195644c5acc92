// `lamina serve`, and the dashboard that `train --serve` and `search --serve` run beside their
// work.
#include <fmt/format.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>

#include <ostream>
#include <thread>

#include "runtime/commands.hpp"
#include "serve/beside.hpp"
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

namespace detail {

std::filesystem::path parent_folder(const std::filesystem::path& dir) {
  const std::filesystem::path p = dir.lexically_normal().parent_path();
  return p.empty() ? std::filesystem::path(".") : p;
}

void check_port(int port) {
  if (port < 0 || port > 65535) throw RequestError("the port must be between 0 (any free one) and 65535");
}

std::unique_ptr<DashboardThread> dashboard_beside(std::optional<int> port, const Cluster* cluster,
                                                  const PluginOptions& plugins, const std::filesystem::path& root,
                                                  std::ostream& out) {
  if (!port || (cluster && cluster->rank() != 0)) return nullptr;
  check_port(*port);  // before the folder is made: a refused port leaves nothing behind
  ServeRequest req;
  req.port = *port;
  std::error_code ec;
  std::filesystem::create_directories(root, ec);
  req.roots = {root};
  req.plugins = plugins;
  return std::make_unique<DashboardThread>(req, out);
}

}  // namespace detail

void run_serve(const ServeRequest& req, std::ostream& out) {
  detail::check_port(req.port);
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

DashboardThread::DashboardThread(const ServeRequest& req, std::ostream& out)
    : impl_((detail::check_port(req.port), std::make_unique<Impl>(req))) {
  announce(impl_->dashboard, req, out);
  impl_->thread = std::thread([this] { impl_->dashboard.run(); });
}

DashboardThread::~DashboardThread() {
  impl_->dashboard.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace lamina
