// `lamina serve`'s JSON API from the outside: a real server process on a free port, asked by an
// HTTP client (cpp-httplib's), over folders holding a trained run, a search, a run whose files
// are torn or malformed, names made of markup, and symlinks leading out. The page itself is
// tested in a browser (tests/python/serve_browser_check.py).
#define BOOST_TEST_MODULE cli_serve
#include <httplib.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <spawn.h>

#include <thread>
#include <algorithm>
#include <cerrno>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "serve/dashboard.hpp"
#include "test_support.hpp"

using namespace lamina::test;
using nlohmann::json;

extern char** environ;

namespace {

// One request written as it is on a fresh connection to 127.0.0.1:port; the answer's first bytes
// (up to 4 KB), read until the server closes or 5 s pass.
std::string raw_request(int port, const std::string& request, long timeout_seconds = 5) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "connect failed";
  }
  timeval tv{timeout_seconds, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  (void)!::write(fd, request.data(), request.size());
  std::string answer;
  char buf[4096];
  while (answer.size() < 4096) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    answer.append(buf, static_cast<std::size_t>(n));
    if (answer.find("\r\n\r\n") != std::string::npos) break;
  }
  ::close(fd);
  return answer;
}

// `lamina serve ARGS --port 0` in the background; the URL it prints tells the port.
class Server {
 public:
  explicit Server(const std::string& args, const std::string& env = "") : Server(Whole{"serve " + args + " --port 0"}, env) {}
  // Any lamina command that prints a dashboard's URL: `train --serve=0`, `search --serve=0`.
  struct Whole {
    std::string args;
  };
  Server(const Whole& whole, const std::string& env = "") {
    int out[2];
    BOOST_TEST_REQUIRE(::pipe(out) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, out[1], 2);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    const std::string command = env + " exec " + kLamina.string() + " " + whole.args;
    const char* argv[] = {"sh", "-c", command.c_str(), nullptr};
    BOOST_TEST_REQUIRE(posix_spawn(&pid_, "/bin/sh", &actions, nullptr, const_cast<char**>(argv), environ) == 0);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    out_ = ::fdopen(out[0], "r");
    char line[4096];
    while (std::fgets(line, sizeof line, out_)) {
      printed_ += line;
      const std::string l = line;
      const auto at = l.find("http://");
      if (at != std::string::npos) {
        port_ = std::stoi(l.substr(l.find(':', at + 7) + 1));
        break;
      }
    }
    BOOST_TEST_REQUIRE(port_ > 0, printed_);
    // The rest is read and dropped: a training's epoch lines must not fill the pipe and block it.
    drain_ = std::thread([this] {
      char rest[4096];
      while (std::fgets(rest, sizeof rest, out_)) {
      }
    });
  }
  ~Server() {
    if (pid_ > 0) stop();
    if (drain_.joinable()) drain_.join();
    if (out_) std::fclose(out_);
  }
  // SIGTERM ends the server with status 0 (a training with 130). One that does not end is killed
  // and reported, so that a lost stop fails the test instead of hanging it.
  int stop(int signal = SIGTERM) {
    ::kill(pid_, signal);
    int status = 0;
    for (int tries = 0; ::waitpid(pid_, &status, WNOHANG) == 0; ++tries) {
      if (tries == 3000) {
        BOOST_ERROR("lamina serve did not stop on SIGTERM");
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      ::usleep(10000);
    }
    pid_ = 0;
    if (drain_.joinable()) drain_.join();  // the process is gone: its pipe is at its end
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  httplib::Client client() const { return httplib::Client("127.0.0.1", port_); }
  json get(const std::string& path, int expect = 200) const {
    auto c = client();
    const auto r = c.Get(path);
    BOOST_TEST_REQUIRE(static_cast<bool>(r), path);
    BOOST_TEST(r->status == expect, path << ": " << r->status << " " << r->body);
    return json::parse(r->body);
  }
  long rss_kb() const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
    for (std::string line; std::getline(in, line);) {
      if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
    }
    return -1;
  }
  const std::string& printed() const { return printed_; }
  int port() const { return port_; }

 private:
  pid_t pid_ = 0;
  FILE* out_ = nullptr;
  int port_ = 0;
  std::string printed_;
  std::thread drain_;
};

const char* kModel =
    "name: tiny\n"
    "data: {source: fashion-mnist, train_limit: 300, test_limit: 100, validation_split: 0.2}\n"
    "layers: [{type: affine, units: 8}, {type: relu}, {type: affine, units: 10}]\n"
    "loss: softmax_cross_entropy\n"
    "optimizer: {type: sgd, lr: 0.1}\n"
    "train: {epochs: 3, batch_size: 50}\n";

const char* kSearch =
    "model:\n"
    "  data: {source: fashion-mnist, train_limit: 300, test_limit: 100, validation_split: 0.2}\n"
    "  layers: [{type: affine, units: 8}, {type: relu}, {type: affine, units: 10}]\n"
    "  loss: softmax_cross_entropy\n"
    "  optimizer: {type: sgd, lr: 0.1}\n"
    "  train: {batch_size: 50}\n"
    "space:\n"
    "  optimizer.lr: {log_uniform: [1.0e-3, 1.0]}\n"
    "  layers.1: {choice: [{type: relu}, {type: tanh, name: act}]}\n"  // mappings: commas in a choice
    "trials: 4\n"
    "epochs: 2\n";

std::string id_of(const json& list, const std::string& name) {
  for (const auto& e : list["entries"]) {
    if (e["name"] == name) return e["id"];
  }
  return "";
}

// An id as a query value: every byte but letters and digits percent-encoded.
std::string enc(const std::string& s) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_api_serves_runs_and_searches_and_nothing_else) {
  TempDir dir;
  const fs::path root = dir / "runs";
  fs::create_directories(root);
  write_file(dir / "m.yaml", kModel);
  write_file(dir / "s.yaml", kSearch);
  BOOST_TEST_REQUIRE(run_lamina("train " + (dir / "m.yaml").string() + " --no-progress --out " + (root / "good").string()).status == 0);
  BOOST_TEST_REQUIRE(run_lamina("search " + (dir / "s.yaml").string() + " --no-progress --out " + (root / "group" / "s").string()).status == 0);
  // A run in progress as a reader finds it: no run.json yet, a torn last line.
  fs::create_directories(root / "torn");
  fs::copy_file(root / "good" / "model.yaml", root / "torn" / "model.yaml");
  write_file(root / "torn" / "metrics.csv", read_file(root / "good" / "metrics.csv") + "4,0.5,0.8");
  // A run whose run.json is garbage and whose name is markup.
  fs::create_directories(root / "<img src=x onerror=alert(1)>");
  fs::copy_file(root / "good" / "model.yaml", root / "<img src=x onerror=alert(1)>" / "model.yaml");
  write_file(root / "<img src=x onerror=alert(1)>" / "metrics.csv", read_file(root / "good" / "metrics.csv"));
  write_file(root / "<img src=x onerror=alert(1)>" / "run.json", "{\"name\": \"<script>alert(1)</script>\", \"status\": ");
  // Symlinks out of the served folder: a whole run, and one file of a run.
  fs::create_directories(dir / "outside");
  fs::copy(root / "good", dir / "outside" / "secret");
  fs::create_directory_symlink(dir / "outside" / "secret", root / "link-out");
  fs::create_directories(root / "leaky");
  fs::create_symlink(dir / "outside" / "secret" / "model.yaml", root / "leaky" / "model.yaml");
  fs::copy_file(root / "good" / "metrics.csv", root / "leaky" / "metrics.csv");

  Server server(root.string());
  const json list = server.get("/api/list");
  BOOST_TEST(list["total"] == 5, list.dump(1));  // good, s, torn, the markup one, leaky; not link-out
  const std::string good = "0/good";
  BOOST_TEST(!id_of(list, "tiny").empty(), list.dump(1));  // the name is the model's, from run.json
  for (const auto& e : list["entries"]) {
    BOOST_TEST(e["id"].get<std::string>().find("link-out") == std::string::npos);
    BOOST_TEST(e["live"] == false);
  }
  BOOST_TEST(id_of(list, "<script>alert(1)</script>").empty());  // the garbage run.json is not read
  const std::string markup = "0/<img src=x onerror=alert(1)>";
  bool found_markup = false, found_torn = false;
  for (const auto& e : list["entries"]) {
    if (e["id"] == markup) {
      found_markup = true;
      BOOST_TEST(e["problem"] == "run.json: not valid JSON");
      BOOST_TEST(e["status"] == "interrupted");
    }
    if (e["id"] == "0/torn") {
      found_torn = true;
      BOOST_TEST(e["done"] == 3);  // the torn fourth line is not an epoch yet
      BOOST_TEST(e["status"] == "interrupted");
    }
  }
  BOOST_TEST(found_markup);
  BOOST_TEST(found_torn);

  // A run: its metrics are metrics.csv's, its model.yaml the file.
  const json run = server.get("/api/run?id=" + enc(good));
  BOOST_TEST(run["status"] == "finished");
  BOOST_TEST(run["model_yaml"] == read_file(root / "good" / "model.yaml"));
  const auto csv = csv_numbers(read_file(root / "good" / "metrics.csv"));
  BOOST_TEST_REQUIRE(run["metrics"]["rows"].size() == csv.size());
  for (std::size_t r = 0; r < csv.size(); ++r) {
    for (std::size_t c = 0; c < csv[r].size(); ++c) BOOST_TEST(run["metrics"]["rows"][r][c].get<double>() == csv[r][c]);
  }
  BOOST_TEST(run["run_json"]["status"] == "finished");
  BOOST_TEST(server.get("/api/run?id=0/leaky")["model_yaml"].is_null());  // its model.yaml leads out

  // A search: one trial per journal line, results.csv as written.
  const json search = server.get("/api/search?id=0/group/s");
  BOOST_TEST(search["kind"] == "search");
  BOOST_TEST(search["trials"].size() == 4);
  BOOST_TEST(search["space"][0]["name"] == "optimizer.lr");
  BOOST_TEST(search["space"][0]["log"] == true);
  BOOST_TEST(search["results"]["rows"].size() + 1 == count_lines(read_file(root / "group" / "s" / "results.csv")));
  // A choice that is a mapping is one quoted field of results.csv and one choice of the space
  // (both were split on its commas: no ranked row at all, three choices).
  BOOST_TEST(search["results"]["rows"].size() == 4u, search["results"].dump());
  BOOST_TEST(search["results"]["skipped"] == 0);
  BOOST_TEST(search["space"][1]["choices"] == json({"{type: relu}", "{type: tanh, name: act}"}), search["space"].dump());
  BOOST_TEST(!search["space"][1].contains("labels"));  // it holds no dimensions: its YAML is its name
  BOOST_TEST(search["summary"]["trials"] == 4);

  // The HParams rows: each run with its model.yaml's keys, each trial with its values and score.
  const json hp = server.get("/api/hparams");
  std::size_t trial_rows = 0;
  for (const auto& row : hp["rows"]) {
    if (row["kind"] == "trial" && row["id"] == "0/group/s") {
      ++trial_rows;
      BOOST_TEST(row["params"].contains("optimizer.lr"));
      BOOST_TEST((row["status"] != "ok" || row["metrics"].contains("val_accuracy")), row.dump());
    }
    if (row["kind"] == "run" && row["id"] == "0/good") BOOST_TEST(row["params"].contains("optimizer.lr"), row.dump());
  }
  BOOST_TEST(trial_rows == 4u);
  server.get("/api/hparams?limit=-1", 400);

  // Nothing but the entries the scan found, by GET.
  for (const char* bad : {"/api/run?id=0/..", "/api/run?id=../runs/good", "/api/run?id=/etc", "/api/run?id=0/link-out",
                          "/api/run?id=0/good/../../outside/secret", "/api/run?id=1/good", "/api/search?id=" "0/torn"}) {
    server.get(bad, 404);
  }
  server.get("/api/run", 400);
  server.get("/api/list?limit=-1", 400);
  server.get("/api/list?limit=1000000", 400);
  server.get("/api/list?offset=x", 400);
  auto c = server.client();
  for (const char* path : {"/../../etc/passwd", "/lib/../../../etc/passwd", "/model.yaml", "/0/good/model.yaml"}) {
    const auto r = c.Get(path);
    BOOST_TEST_REQUIRE(static_cast<bool>(r));
    BOOST_TEST(r->status == 404, path << " " << r->status);
    BOOST_TEST(r->body.find("root:") == std::string::npos);
  }
  BOOST_TEST(c.Post("/api/list", "x", "text/plain")->status == 405);
  BOOST_TEST(c.Delete("/api/run?id=" + enc(good))->status == 405);
  BOOST_TEST(c.Put("/", "x", "text/plain")->status == 405);
  // Every other method too, at once: answered before any body is read (a POST without one used
  // to wait out the read timeout), OPTIONS and TRACE included.
  for (const char* method : {"POST", "OPTIONS", "TRACE", "PATCH", "DELETE", "CONNECT"}) {
    // The request promises 10 bytes of body and sends none: a server that read the body first
    // would answer 400 after its read timeout; 405 is the answer given before.
    const std::string answer = raw_request(server.port(), std::string(method) + " /api/list HTTP/1.1\r\nHost: 127.0.0.1:" +
                                                              std::to_string(server.port()) + "\r\nContent-Length: 10\r\n\r\n");
    BOOST_TEST(answer.starts_with("HTTP/1.1 405"), method << ": " << answer);
  }
  // DNS rebinding: a page of another site whose name now resolves to 127.0.0.1 sends its own
  // name; only the names the server was started for are answered (421 otherwise).
  for (const std::string& host : std::vector<std::string>{"evil.example", "evil.example:" + std::to_string(server.port()),
                                                          "127.0.0.1:1", "localhost.evil.example"}) {
    const std::string answer = raw_request(server.port(), "GET /api/list HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
    BOOST_TEST(answer.starts_with("HTTP/1.1 421"), host << ": " << answer);
  }
  for (const std::string& host : std::vector<std::string>{"127.0.0.1:" + std::to_string(server.port()),
                                                          "LocalHost:" + std::to_string(server.port()), "localhost"}) {
    const std::string answer = raw_request(server.port(), "GET /api/list HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
    BOOST_TEST(answer.starts_with("HTTP/1.1 200"), host << ": " << answer);
  }
  const auto page = c.Get("/");
  BOOST_TEST(page->status == 200);
  BOOST_TEST(page->get_header_value("Content-Security-Policy").find("script-src 'self'") != std::string::npos);
  BOOST_TEST(c.Get("/lib/dygraph.min.js")->body.size() > 10000u);
  BOOST_TEST(fs::exists(root / "good" / "model.yaml"));  // read-only: everything is where it was
  BOOST_TEST(server.stop() == 0);
}

BOOST_AUTO_TEST_CASE(a_folder_of_ten_thousand_runs_is_listed_a_page_at_a_time_in_bounded_memory) {
  TempDir dir;
  const std::string metrics =
      "epoch,train_loss,train_acc,penalty,val_loss,val_acc,test_loss,test_acc\n1,0.5,0.8,0,0.5,0.8,0.5,0.8\n";
  for (int i = 0; i < 10000; ++i) {
    std::string name = "r";  // (not "r" + to_string: GCC 12 warns falsely of an overlapping copy there)
    name += std::to_string(i);
    const fs::path run = dir / "runs" / name;
    fs::create_directories(run);
    write_file(run / "model.yaml", "train: {epochs: 3}\n");
    write_file(run / "metrics.csv", metrics);
  }
  // Under AddressSanitizer, freed memory is kept aside (its quarantine) and would count as the
  // server's: measured without it.
  Server server((dir / "runs").string(), "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0");
  const long before = server.rss_kb();
  const json first = server.get("/api/list?limit=10");
  BOOST_TEST(first["total"] == 10000);
  BOOST_TEST(first["entries"].size() == 10u);
  const json last = server.get("/api/list?offset=9995&limit=10");
  BOOST_TEST(last["entries"].size() == 5u);
  // Enough listings for every worker thread to have served some (each keeps its own caches).
  for (int k = 0; k < 24; ++k) server.get("/api/list?limit=1000");
  const long warm = server.rss_kb();
  // Every page of the list, five times over: the memory stays where the first listings left it.
  for (int k = 0; k < 5; ++k) {
    for (int offset = 0; offset < 10000; offset += 1000) server.get("/api/list?limit=1000&offset=" + std::to_string(offset));
  }
  const long after = server.rss_kb();
  BOOST_TEST_MESSAGE("lamina serve of 10,000 runs: RSS " << before / 1024 << " MB before listing, " << warm / 1024
                                                         << " MB after the first listings, " << after / 1024
                                                         << " MB after 50 more pages");
  BOOST_TEST(after - warm < 16 * 1024, warm << " -> " << after << " kB");
}

BOOST_AUTO_TEST_CASE(serve_refuses_what_it_cannot_do_with_one_message) {
  TempDir dir;
  const auto missing = run_lamina("serve " + (dir / "nosuch").string() + " --port 0");
  BOOST_TEST(missing.status == 2);
  BOOST_TEST(missing.output.find("nosuch: no such folder to serve") != std::string::npos, missing.output);
  BOOST_TEST(run_lamina("serve --port 70000").status == 2);
  fs::create_directories(dir / "runs");
  Server first((dir / "runs").string());
  // Another server on the first one's port.
  const std::string port = std::to_string(first.port());
  const auto busy = run_lamina("serve " + (dir / "runs").string() + " --port " + port);
  BOOST_TEST(busy.status == 2);
  BOOST_TEST(busy.output.find("cannot listen on 127.0.0.1:" + port) != std::string::npos, busy.output);
  // Listening beyond this machine is said on start.
  Server open((dir / "runs").string() + " --host 0.0.0.0");
  BOOST_TEST(open.printed().find("every machine that can reach this one") != std::string::npos, open.printed());
}

// The work of a request is bounded: a long metrics.csv is thinned (the last epoch kept), one
// past the dashboard's cap is not read and its row says why (it used to show 0 epochs).
BOOST_AUTO_TEST_CASE(long_and_oversized_metrics_are_thinned_or_refused_with_a_reason) {
  TempDir dir;
  const fs::path root = dir / "runs";
  std::string header = "epoch,train_loss,train_acc,penalty,val_loss,val_acc,test_loss,test_acc\n";
  std::string rows;
  for (int e = 1; e <= 20000; ++e) rows += std::to_string(e) + ",0.5,0.8,0,,,0.6,0.7\n";
  for (const char* name : {"long", "huge"}) {
    fs::create_directories(root / name);
    write_file(root / name / "model.yaml", "train: {epochs: 20000}\n");
  }
  write_file(root / "long" / "metrics.csv", header + rows);
  std::string steps = "step,epoch,loss\n";
  for (int step = 1; step <= 20000; ++step) steps += std::to_string(step) + ",1," + std::to_string(1.0 / step) + "\n";
  write_file(root / "long" / "iterations.csv", steps);
  std::string huge = header;
  while (huge.size() < (9u << 20)) huge += rows;
  write_file(root / "huge" / "metrics.csv", huge);
  Server server(root.string());
  const json list = server.get("/api/list");
  for (const auto& e : list["entries"]) {
    if (e["id"] == "0/huge") {
      BOOST_TEST(e["problem"].get<std::string>().find("metrics.csv: 9.") == 0u, e.dump());
      BOOST_TEST(e["problem"].get<std::string>().find("MB, more than the 8 MB the dashboard reads") !=
                     std::string::npos,
                 e.dump());
    }
    if (e["id"] == "0/long") BOOST_TEST(e["problem"].get<std::string>().empty(), e.dump());
  }
  const json run = server.get("/api/run?id=" + enc("0/long"));
  const auto& got = run["metrics"]["rows"];
  BOOST_TEST(got.size() <= 5001u);
  BOOST_TEST(got.size() >= 4000u);
  BOOST_TEST(got.back()[0] == 20000);
  // The batch losses likewise: evenly thinned, the last step kept, each row as written.
  const auto& losses = run["iterations"]["rows"];
  BOOST_TEST(run["iterations"]["columns"] == json({"step", "epoch", "loss"}));
  BOOST_TEST(losses.size() <= 5001u);
  BOOST_TEST(losses.size() >= 4000u);
  BOOST_TEST(losses.back()[0] == 20000);
  for (const auto& row : losses) BOOST_TEST(row[2].get<double>() == std::stod(std::to_string(1.0 / row[0].get<int>())));
  BOOST_TEST(server.get("/api/run?id=" + enc("0/huge"))["metrics"]["rows"].empty());
  BOOST_TEST(server.stop() == 0);
}

// Loopback is judged on the addresses a name resolves to, not on its text: `127.example.com`
// could name any machine (here it resolves to nothing, so it is not loopback either).
BOOST_AUTO_TEST_CASE(loopback_is_judged_on_addresses) {
  for (const char* host : {"127.0.0.1", "127.1.2.3", "::1", "localhost"}) BOOST_TEST(lamina::serve::is_loopback(host), host);
  for (const char* host : {"0.0.0.0", "::", "127.example.com", "127.0.0.1.example.com"}) {
    BOOST_TEST(!lamina::serve::is_loopback(host), host);
  }
}

// Slow clients that send a header line now and then, more of them than the server has workers:
// each is dropped once its headers have taken 5 s, and a request made while they hold every
// worker is answered after that wait, not never. (A bounded loop: 12 clients, a line every
// 0.5 s for at most 12 s.)
BOOST_AUTO_TEST_CASE(slow_clients_are_dropped_and_others_answered) {
  TempDir dir;
  fs::create_directories(dir / "runs");
  Server server((dir / "runs").string());
  std::vector<int> slow;
  for (int k = 0; k < 12; ++k) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(server.port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    BOOST_TEST_REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    (void)!::send(fd, "GET / HTTP/1.1\r\n", 16, MSG_NOSIGNAL);
    slow.push_back(fd);
  }
  const auto start = std::chrono::steady_clock::now();
  std::string answer;
  std::thread other([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // once the slow ones hold the workers
    answer = raw_request(server.port(),
                         "GET /api/list HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(server.port()) +
                             "\r\nConnection: close\r\n\r\n",
                         15);
  });
  std::vector<bool> dropped(slow.size(), false);
  for (int tick = 0; tick < 24 && std::count(dropped.begin(), dropped.end(), true) < 12; ++tick) {
    for (std::size_t k = 0; k < slow.size(); ++k) {
      if (dropped[k]) continue;
      char c;
      // The server's end is shut: a read says end of file (or reset), at once.
      const ssize_t n = ::recv(slow[k], &c, 1, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        dropped[k] = true;
        continue;
      }
      (void)!::send(slow[k], "X-Slow: 1\r\n", 11, MSG_NOSIGNAL);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  other.join();
  for (const int fd : slow) ::close(fd);
  BOOST_TEST(std::count(dropped.begin(), dropped.end(), true) == 12);
  BOOST_TEST(took >= 4.5);  // none was cut before its 5 s
  BOOST_TEST(answer.starts_with("HTTP/1.1 200"), answer);
  BOOST_TEST(server.stop() == 0);
}

// The plugins page's data: every type the registry holds with its keys, as `lamina plugins info`
// prints them, a plugin given by --plugin-dir included.
BOOST_AUTO_TEST_CASE(the_plugins_api_lists_every_type_with_its_keys) {
  TempDir dir;
  fs::create_directories(dir / "runs");
  Server server((dir / "runs").string() + " --plugin-dir " + (kFixturePluginDir / "second_valid").string());
  const json plugins = server.get("/api/plugins");
  const auto find = [&](const std::string& kind, const std::string& name) {
    for (const auto& t : plugins) {
      if (t["kind"] == kind && t["name"] == name) return t;
    }
    return json();
  };
  const json dropout = find("layer", "dropout");
  BOOST_TEST_REQUIRE(!dropout.is_null(), plugins.dump(1));
  BOOST_TEST(dropout["plugin"] == "dropout");
  BOOST_TEST(dropout["summary"].get<std::string>().find("drops units with probability ratio") == 0u);
  BOOST_TEST_REQUIRE(dropout["keys"].size() == 2u);
  BOOST_TEST(dropout["keys"][0]["name"] == "ratio");
  BOOST_TEST(dropout["keys"][0]["type"] == "float");
  BOOST_TEST(dropout["keys"][0]["default"] == "0.5");
  BOOST_TEST(dropout["keys"][0]["expects"] == "a number in [0, 1)");
  const json scale2 = find("layer", "scale2");
  BOOST_TEST_REQUIRE(!scale2.is_null());
  BOOST_TEST(scale2["file"].get<std::string>().find((kFixturePluginDir / "second_valid").string()) == 0u, scale2.dump());
  // As many types as `lamina plugins` lists, one line each after its header lines.
  const auto listed = run_lamina("plugins --plugin-dir " + (kFixturePluginDir / "second_valid").string());
  BOOST_TEST_REQUIRE(listed.status == 0, listed.output);
  std::size_t types = 0;
  for (const auto& t : plugins) types += listed.output.find(t["name"].get<std::string>()) != std::string::npos;
  BOOST_TEST(types == plugins.size());
  BOOST_TEST(server.stop() == 0);
}

// A killed training leaves its .live marker; the dashboard finds the process gone and shows the
// run as interrupted, while one stopped (SIGSTOP, as a busy machine would hold it) is running.
BOOST_AUTO_TEST_CASE(a_killed_runs_leftover_marker_reads_as_interrupted) {
  TempDir dir;
  const fs::path root = dir / "runs";
  fs::create_directories(root);
  write_file(dir / "slow.yaml", std::string(kModel).replace(std::string(kModel).find("epochs: 3"), 9, "epochs: 100000"));
  // Started through the helper, which needs a URL to wait for: --serve=0 gives one.
  Server trainer(Server::Whole{"train " + (dir / "slow.yaml").string() + " --no-progress --threads 1 --out " +
                               (root / "slow").string() + " --serve=0"});
  for (int i = 0; i < 3000 && !fs::exists(root / "slow" / "metrics.csv"); ++i) ::usleep(10000);
  BOOST_TEST_REQUIRE(fs::exists(root / "slow" / ".live"));
  Server server(root.string());
  const auto entry = [&] {
    const json list = server.get("/api/list");
    BOOST_TEST_REQUIRE(list["entries"].size() == 1u, list.dump());
    return list["entries"][0];
  };
  BOOST_TEST(entry()["live"] == true);
  BOOST_TEST(entry()["status"] == "running");
  BOOST_TEST(trainer.stop(SIGKILL) == 128 + SIGKILL);
  BOOST_TEST(fs::exists(root / "slow" / ".live"));  // SIGKILL leaves it
  // The list is rescanned at most once a second: the next scan finds the process gone.
  json after = entry();
  for (int i = 0; i < 300 && after["live"] == true; ++i) {
    ::usleep(20000);
    after = entry();
  }
  BOOST_TEST(after["live"] == false, after.dump());
  BOOST_TEST(after["status"] == "interrupted", after.dump());
  BOOST_TEST(server.stop() == 0);
}

// `train --serve` and `search --serve`: the dashboard of the work's parent folder while it
// works, the work listed live; it ends with the work (Ctrl-C: 130, the port closed).
BOOST_AUTO_TEST_CASE(train_and_search_serve_their_folder_while_they_work) {
  TempDir dir;
  const fs::path root = dir / "runs";
  write_file(dir / "slow.yaml", std::string(kModel).replace(std::string(kModel).find("epochs: 3"), 9, "epochs: 100000"));
  std::string search = kSearch;
  search.replace(search.find("trials: 4"), 9, "trials: 100000");
  write_file(dir / "s.yaml", search);
  const std::vector<std::pair<std::string, std::string>> works = {
      {"train " + (dir / "slow.yaml").string() + " --out " + (root / "run").string(), "run"},
      {"search " + (dir / "s.yaml").string() + " --out " + (root / "search").string(), "search"}};
  for (const auto& [args, name] : works) {
    Server work(Server::Whole{args + " --no-progress --serve=0"});
    BOOST_TEST(work.printed().find("dashboard of " + root.string() + " at http://127.0.0.1:") != std::string::npos,
               work.printed());
    for (int i = 0; i < 3000 && !fs::exists(root / name / ".live"); ++i) ::usleep(10000);
    bool listed = false;
    for (int i = 0; i < 300 && !listed; ++i) {  // the scan sees the folder once it has its first files
      const json list = work.get("/api/list");
      for (const auto& e : list["entries"]) listed = listed || (e["id"] == "0/" + name && e["live"] == true);
      if (!listed) ::usleep(20000);
    }
    BOOST_TEST(listed, name << ": " << work.get("/api/list").dump());
    const int port = work.port();
    BOOST_TEST(work.stop(SIGINT) == 130, name);
    BOOST_TEST(raw_request(port, "GET /api/list HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") == "connect failed", name);
  }
}
