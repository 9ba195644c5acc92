#include "serve/header_deadline.hpp"

#include <dirent.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace lamina::serve {
namespace {

using Clock = std::chrono::steady_clock;

// "socket:[12345]" → 12345 (a socket's inode: unique while it is open), 0 for any other file.
unsigned long socket_inode(int fd) {
  char link[64];
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t n = ::readlink(path.c_str(), link, sizeof link - 1);
  if (n <= 0) return 0;
  link[n] = '\0';
  unsigned long inode = 0;
  return std::sscanf(link, "socket:[%lu]", &inode) == 1 ? inode : 0;
}

std::string numeric(const sockaddr_storage& a, socklen_t len, int* port) {
  char host[NI_MAXHOST], serv[NI_MAXSERV];
  if (::getnameinfo(reinterpret_cast<const sockaddr*>(&a), len, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return {};
  }
  *port = std::atoi(serv);
  return host;
}

struct Connection {
  int fd;
  unsigned long inode;
  std::string peer;
};

// The open connections accepted on `port` (the listening socket has no peer and is left out).
std::vector<Connection> connections(int port) {
  std::vector<Connection> out;
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return out;
  while (const dirent* e = ::readdir(dir)) {
    const int fd = std::atoi(e->d_name);
    if (e->d_name[0] < '0' || e->d_name[0] > '9' || fd == ::dirfd(dir)) continue;
    const unsigned long inode = socket_inode(fd);
    if (!inode) continue;
    sockaddr_storage local{}, remote{};
    socklen_t local_len = sizeof local, remote_len = sizeof remote;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0) continue;
    int local_port = -1, remote_port = -1;
    if (numeric(local, local_len, &local_port).empty() || local_port != port) continue;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&remote), &remote_len) != 0) continue;
    const std::string address = numeric(remote, remote_len, &remote_port);
    if (!address.empty()) out.push_back({fd, inode, HeaderDeadline::peer(address, remote_port)});
  }
  ::closedir(dir);
  return out;
}

}  // namespace

struct HeaderDeadline::Impl {
  struct State {
    unsigned long inode = 0;  // 0 until the watchdog has seen the socket
    Clock::time_point since;  // accepted, or last answered
    bool busy = false;        // a request is being handled
  };
  int port;
  std::chrono::milliseconds deadline;
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  std::map<std::string, State> peers;
  std::thread watchdog;

  void watch() {
    std::unique_lock lock(mutex);
    while (!wake.wait_for(lock, std::chrono::milliseconds(200), [this] { return stopping; })) {
      const auto now = Clock::now();
      std::map<std::string, State> seen;
      for (const Connection& c : connections(port)) {
        auto it = peers.find(c.peer);
        State s = it != peers.end() && (it->second.inode == c.inode || it->second.inode == 0) ? it->second : State{};
        if (s.inode == 0 && !s.busy) s.since = now;
        s.inode = c.inode;
        // Checked again just before: the fd may have been closed and reused since the scan.
        if (!s.busy && now - s.since > deadline && socket_inode(c.fd) == c.inode) {
          ::shutdown(c.fd, SHUT_RDWR);
          continue;
        }
        seen[c.peer] = s;
      }
      // A request may have started on a connection the scan has not seen yet: keep it.
      for (auto& [peer, s] : peers) {
        if (s.inode == 0 && s.busy && !seen.count(peer)) seen[peer] = s;
      }
      peers.swap(seen);
    }
  }
};

HeaderDeadline::HeaderDeadline(int port, std::chrono::milliseconds deadline) : impl_(std::make_unique<Impl>()) {
  impl_->port = port;
  impl_->deadline = deadline;
  impl_->watchdog = std::thread([this] { impl_->watch(); });
}

HeaderDeadline::~HeaderDeadline() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  impl_->watchdog.join();
}

void HeaderDeadline::request_started(const std::string& peer) {
  std::lock_guard lock(impl_->mutex);
  impl_->peers[peer].busy = true;
}

void HeaderDeadline::request_answered(const std::string& peer) {
  std::lock_guard lock(impl_->mutex);
  auto& s = impl_->peers[peer];
  s.busy = false;
  s.since = Clock::now();
}

std::string HeaderDeadline::peer(const std::string& address, int port) { return address + ":" + std::to_string(port); }

}  // namespace lamina::serve
