// The dashboard's HTTP side (`lamina serve`, `train --serve`, `search --serve`): a read-only
// JSON API over a Catalog and the single page that draws it, on Debian's cpp-httplib.
//
//   GET /                    the page (index.html, app.js, app.css, compiled into lamina)
//   GET /lib/dygraph.min.js  Debian's libjs-dygraphs, served from its install folder
//   GET /api/list?offset=&limit=   runs and searches, newest first: {total, entries}
//   GET /api/run?id=ID       a run: metrics, batch losses, model.yaml, run.json
//   GET /api/search?id=ID    a search: trials, space, rounds, summary, results.csv
//   GET /api/plugins         every type: kind, plugin, version, keys with their docs
// Any other path is 404, any other method 405; nothing changes a file.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace lamina {
class Registry;
}

namespace lamina::serve {

// Whether every address `host` resolves to is a loopback one (127.0.0.0/8, ::1).
bool is_loopback(const std::string& host);

class Dashboard {
 public:
  // Binds now (a port in use is an InputError naming it); port 0 takes a free one.
  Dashboard(std::vector<std::filesystem::path> roots, const std::string& host, int port, const Registry& registry);
  ~Dashboard();
  Dashboard(const Dashboard&) = delete;
  Dashboard& operator=(const Dashboard&) = delete;

  int port() const;
  std::string url() const;
  void run();   // serves until stop(): blocks
  void stop();  // from another thread

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lamina::serve
