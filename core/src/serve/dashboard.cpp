#include "serve/dashboard.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <httplib.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>
#include <nlohmann/json.hpp>
#include <sstream>

#include "lamina/error.hpp"
#include "runtime/registry.hpp"
#include "serve/assets.hpp"
#include "serve/catalog.hpp"
#include "serve/header_deadline.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace lamina::serve {
namespace {

constexpr int kMaxLimit = 1000;

// Headers on every answer: the page runs only its own scripts (a value from a run folder that
// slipped into the page as markup could not execute), and nothing is cached or sniffed. Inline
// styles are allowed: dygraphs colours its legend with them, and a style runs no code.
httplib::Headers security_headers() {
  return {{"Content-Security-Policy",
           "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; object-src 'none'; "
           "base-uri 'none'; frame-ancestors 'none'"},
          {"X-Content-Type-Options", "nosniff"},
          {"Referrer-Policy", "no-referrer"},
          {"Cache-Control", "no-store"}};
}

void send_json(httplib::Response& res, const json& j, int status = 200) {
  res.status = status;
  // Non-ASCII and invalid UTF-8 from a run folder are replaced, never thrown on.
  res.set_content(j.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  send_json(res, {{"error", message}}, status);
}

// A non-negative integer query parameter, or `fallback`; anything else is a 400.
std::optional<long> int_param(const httplib::Request& req, const char* name, long fallback, long max) {
  if (!req.has_param(name)) return fallback;
  const std::string v = req.get_param_value(name);
  if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const long n = std::stol(v);
  return n <= max ? std::optional<long>(n) : std::nullopt;
}

// The Host header names this server: 127.0.0.1, localhost, [::1] or the --host value, with this
// port or none (case-insensitive, as names are).
bool host_allowed(const std::string& header, const std::string& host, int port) {
  std::string h = header;
  std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string name = h;
  const auto colon = h.rfind(':');
  if (colon != std::string::npos && h.find(']', colon) == std::string::npos) {
    if (h.substr(colon + 1) != std::to_string(port)) return false;
    name = h.substr(0, colon);
  }
  std::string own = host;
  std::transform(own.begin(), own.end(), own.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (own.find(':') != std::string::npos) own = "[" + own + "]";
  return name == "127.0.0.1" || name == "localhost" || name == "[::1]" || name == own;
}

std::string read_library(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

// Whether every address `host` resolves to is a loopback one: judged on the addresses, not the
// text (`127.example.com` may name any machine); a name that does not resolve is not loopback.
bool is_loopback(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0 || found == nullptr) return false;
  bool all = true;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    if (a->ai_family == AF_INET) {
      const auto addr = ntohl(reinterpret_cast<const sockaddr_in*>(a->ai_addr)->sin_addr.s_addr);
      all = all && (addr >> 24) == 127;
    } else if (a->ai_family == AF_INET6) {
      all = all && IN6_IS_ADDR_LOOPBACK(&reinterpret_cast<const sockaddr_in6*>(a->ai_addr)->sin6_addr);
    }
  }
  ::freeaddrinfo(found);
  return all;
}

struct Dashboard::Impl {
  Catalog catalog;
  std::unique_ptr<HeaderDeadline> deadline;  // set once the port is known; outlives the server
  httplib::Server server;
  std::string host;
  int port = 0;
  json plugins = json::array();
  std::string dygraph_js, dygraph_css;
  std::atomic<bool> started{false}, finished{false}, stopping{false};  // run() entered, returned; stop() called

  explicit Impl(std::vector<fs::path> roots) : catalog(std::move(roots)) {}
};

Dashboard::Dashboard(std::vector<fs::path> roots, const std::string& host, int port, const Registry& registry)
    : impl_(std::make_unique<Impl>(std::move(roots))) {
  Impl& d = *impl_;
  d.host = host;
  for (const auto& r : d.catalog.roots()) {
    std::error_code ec;
    if (!fs::is_directory(r, ec)) throw InputError(fmt::format("{}: no such folder to serve", r.string()));
  }
  d.dygraph_js = read_library(fs::path(LAMINA_DYGRAPHS_DIR) / "dygraph.min.js");
  d.dygraph_css = read_library(fs::path(LAMINA_DYGRAPHS_DIR) / "dygraph.min.css");
  if (d.dygraph_js.empty()) {
    throw InputError(fmt::format("{}/dygraph.min.js: not found; the dashboard draws its charts with Debian's "
                                 "libjs-dygraphs (apt-get install libjs-dygraphs)",
                                 LAMINA_DYGRAPHS_DIR));
  }
  // The plugins page: what `lamina plugins info` prints, as data (the registry is read once).
  for (const TypeInfo* t : registry.list()) {
    json keys = json::array();
    for (const auto& k : t->keys) {
      keys.push_back({{"name", k.name()},
                      {"type", key_type_name(k.type())},
                      {"default", k.is_required() ? json("(required)") : k.default_text() ? json(*k.default_text()) : json(nullptr)},
                      {"doc", k.doc()},
                      {"expects", k.expectation()}});
    }
    d.plugins.push_back({{"kind", kind_name(t->kind)},
                         {"name", t->name},
                         {"summary", t->summary},
                         {"plugin", t->provider.plugin},
                         {"version", t->provider.version},
                         {"file", t->provider.file},
                         {"keys", keys}});
  }

  httplib::Server& s = d.server;
  s.set_default_headers(security_headers());
  // SO_REUSEADDR alone: httplib's default adds SO_REUSEPORT, with which a second server would
  // share a port already in use instead of being refused.
  s.set_socket_options([](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  s.set_payload_max_length(1024);  // read-only: a request has no body worth reading
  // A worker per connection up to 8. A connection holds its worker while its headers arrive:
  // headers are bounded in size by httplib (8 KB), in pace by the read timeout (nothing for 2 s
  // and the client is dropped) and in all by HeaderDeadline (5 s without a request handled), so
  // slow clients, however many, delay others by 5 s at most.
  s.new_task_queue = [] { return new httplib::ThreadPool(8); };
  s.set_read_timeout(2, 0);
  s.set_keep_alive_timeout(2);
  for (const auto& a : assets()) {
    const std::string path = a.name == "index.html" ? "/" : "/" + a.name;
    s.Get(path, [a](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(a.data), a.type);
    });
  }
  s.Get("/lib/dygraph.min.js", [&d](const httplib::Request&, httplib::Response& res) {
    res.set_content(d.dygraph_js, "text/javascript");
  });
  s.Get("/lib/dygraph.min.css", [&d](const httplib::Request&, httplib::Response& res) {
    res.set_content(d.dygraph_css, "text/css");
  });
  s.Get("/api/list", [&d](const httplib::Request& req, httplib::Response& res) {
    const auto offset = int_param(req, "offset", 0, 1L << 30);
    const auto limit = int_param(req, "limit", 200, kMaxLimit);
    if (!offset || !limit) {
      send_error(res, 400, fmt::format("offset and limit are integers >= 0 (limit at most {})", kMaxLimit));
      return;
    }
    const Catalog::Page page = d.catalog.page(static_cast<std::size_t>(*offset), static_cast<std::size_t>(*limit));
    json entries = json::array();
    for (const auto& e : page.entries) entries.push_back(to_json(e));
    json roots = json::array();
    for (const auto& r : d.catalog.roots()) roots.push_back(r.string());
    send_json(res, {{"total", page.total}, {"live", page.live}, {"offset", *offset}, {"roots", roots},
                    {"entries", entries}});
  });
  const auto details = [&d](bool search) {
    return [&d, search](const httplib::Request& req, httplib::Response& res) {
      if (!req.has_param("id")) {
        send_error(res, 400, "name the entry: ?id=... (as /api/list gives it)");
        return;
      }
      const auto e = d.catalog.find(req.get_param_value("id"));
      if (!e || e->search != search) {
        send_error(res, 404, fmt::format("no {} with this id under the served folders", search ? "search" : "run"));
        return;
      }
      send_json(res, search ? d.catalog.search_details(*e) : d.catalog.run_details(*e));
    };
  };
  s.Get("/api/run", details(false));
  s.Get("/api/search", details(true));
  s.Get("/api/hparams", [&d](const httplib::Request& req, httplib::Response& res) {
    const auto limit = int_param(req, "limit", 200, kMaxLimit);
    if (!limit) {
      send_error(res, 400, fmt::format("limit is an integer >= 0 (at most {})", kMaxLimit));
      return;
    }
    send_json(res, d.catalog.hparams(static_cast<std::size_t>(*limit)));
  });
  s.Get("/api/plugins", [&d](const httplib::Request&, httplib::Response& res) { send_json(res, d.plugins); });
  // Before routing, so before any body is read: a method other than GET (or HEAD) is answered
  // 405 at once instead of after the read timeout, whatever the method; and a request for a
  // name the server was not started for is answered 421. The second keeps a page of another
  // site that the browser's DNS now resolves to 127.0.0.1 (DNS rebinding) from reading the API.
  s.set_pre_routing_handler([&d](const httplib::Request& req, httplib::Response& res) {
    if (d.deadline) d.deadline->request_started(HeaderDeadline::peer(req.remote_addr, req.remote_port));
    if (!host_allowed(req.get_header_value("Host"), d.host, d.port)) {
      send_error(res, 421, "this server answers only the names it was started for (127.0.0.1, localhost, --host)");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.method != "GET" && req.method != "HEAD") {
      res.set_header("Allow", "GET, HEAD");
      send_error(res, 405, "the dashboard is read-only: GET only");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  s.set_logger([&d](const httplib::Request& req, const httplib::Response&) {
    if (d.deadline) d.deadline->request_answered(HeaderDeadline::peer(req.remote_addr, req.remote_port));
  });
  s.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) send_error(res, res.status, res.status == 404 ? "not found" : "bad request");
  });
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    send_error(res, 500, "the server could not read this entry");
  });

  d.port = port == 0 ? s.bind_to_any_port(host) : (s.bind_to_port(host, port) ? port : -1);
  if (d.port < 0) {
    throw InputError(fmt::format("--port {}: cannot listen on {}:{} (in use, or not an address of this machine)",
                                 port, host, port));
  }
  d.deadline = std::make_unique<HeaderDeadline>(d.port, std::chrono::seconds(5));
}

Dashboard::~Dashboard() { stop(); }

int Dashboard::port() const { return impl_->port; }

std::string Dashboard::url() const {
  const std::string& h = impl_->host;
  return fmt::format("http://{}:{}/", h.find(':') != std::string::npos ? "[" + h + "]" : h, impl_->port);
}

void Dashboard::run() {
  impl_->started = true;
  if (!impl_->stopping) impl_->server.listen_after_bind();
  impl_->finished = true;
}

// httplib's stop() does nothing before the listening loop has begun. A stop that comes first (a
// SIGTERM right after the start) is never lost: before run() it keeps run() from listening;
// once run() began, it waits for the loop and ends it. (Sequentially consistent atomics: one of
// the two sides sees the other's flag.)
void Dashboard::stop() {
  if (!impl_) return;
  impl_->stopping = true;
  if (!impl_->started) return;
  while (!impl_->finished && !impl_->server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  impl_->server.stop();
}

}  // namespace lamina::serve
